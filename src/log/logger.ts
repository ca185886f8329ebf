// The worker's own log: one line per event on standard error (journald under systemd).
// Values are quoted and escaped so a hostile user name cannot forge a line; a password is
// never passed here.

export type Level = 'error' | 'warning' | 'notice' | 'info' | 'debug';
export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  log(level: Level, event: string, fields?: Fields): void;
}

/** Characters JSON leaves as they are but a log viewer may take for a line break or use to
 * reorder what it shows: line and paragraph separators, format controls (bidi overrides),
 * private-use and unassigned code points. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu;

/** JSON text with those characters as \\u escapes: the same JSON to a parser, one plain line to
 * a viewer. One escape per UTF-16 unit: a private-use character beyond U+FFFF is a surrogate
 * pair in JSON (five hex digits would read back as another character and a digit). */
export function escapeInvisible(json: string): string {
  return json.replace(INVISIBLE, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

function quote(value: string): string {
  if (/^[A-Za-z0-9_.:/@+-]+$/.test(value)) return value;
  return escapeInvisible(JSON.stringify(value));
}

/** The time of the last line, kept for the lines of the same millisecond. */
let stampMs = -1;
let stamp = '';

function timestamp(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

export function formatLine(level: Level, event: string, fields?: Fields): string {
  let line = `${timestamp()} ${level} ${event}`;
  if (fields === undefined) return line;
  // Fields are object literals: for-in sees their own keys, in order, without an entries array.
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    line += ` ${k}=${v === null ? '-' : quote(String(v))}`;
  }
  return line;
}

export class StderrLogger implements Logger {
  constructor(private readonly debugEnabled = false) {}

  log(level: Level, event: string, fields?: Fields): void {
    if (level === 'debug' && !this.debugEnabled) return;
    process.stderr.write(formatLine(level, event, fields) + '\n');
  }
}
