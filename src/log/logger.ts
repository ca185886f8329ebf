import fs from 'fs';

// The worker's own log: one line per event on standard error (journald under systemd).
// Values are quoted and escaped so a hostile user name cannot forge a line; a password is
// never passed here.

export type Level = 'error' | 'warning' | 'notice' | 'info' | 'debug';
export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  log(level: Level, event: string, fields?: Fields): void;
}

function quote(value: string): string {
  if (/^[A-Za-z0-9_.:/@+-]+$/.test(value)) return value;
  return JSON.stringify(value);
}

export function formatLine(level: Level, event: string, fields: Fields = {}): string {
  const parts = [new Date().toISOString(), level, event];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}=${v === null ? '-' : quote(String(v))}`);
  }
  return parts.join(' ');
}

/** Writes to standard error, the lines of one turn of the event loop in one write: a write to
 * a pipe or file is synchronous in Node, and one per request was the worker's largest cost
 * under load (bench/README.md). Pending lines are written at exit too. */
export class StderrLogger implements Logger {
  private pending: string[] = [];
  private scheduled = false;

  constructor(private readonly debugEnabled = false) {
    process.on('exit', () => this.flush());
  }

  log(level: Level, event: string, fields?: Fields): void {
    if (level === 'debug' && !this.debugEnabled) return;
    this.pending.push(formatLine(level, event, fields) + '\n');
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    try {
      fs.writeSync(2, text);
    } catch {
      // stderr gone (EPIPE, EAGAIN on a full non-blocking pipe): the line is lost, the
      // request is not.
    }
  }
}
