// Reads what the module wrote through pam_syslog, from the private sink global-setup starts.
import { execFileSync } from 'child_process';
import fs from 'fs';

let markers = 0;

export const SYSLOG_FILE_ENV = 'PAM_MAPI_TEST_SYSLOG';

function file(): string {
  const f = process.env[SYSLOG_FILE_ENV];
  if (f === undefined) throw new Error(`${SYSLOG_FILE_ENV} is not set: run the tests with npm test`);
  return f;
}

/** Lines written after the returned mark. */
export function syslogMark(): number {
  return fs.statSync(file()).size;
}

/** Lines written after `mark`. The sink writes datagrams in the order they came, but
 * asynchronously: a marker of our own is sent through /dev/log after them, and the lines are
 * read once the marker is written (a fixed wait alone lost lines on a loaded machine). */
export async function syslogSince(mark: number, settleMs = 150): Promise<string[]> {
  // Lines another process (a mail daemon) may still send: the caller's wait, then the marker.
  await new Promise((r) => setTimeout(r, settleMs));
  const marker = `pam_mapi-test-marker-${process.pid}-${++markers}`;
  execFileSync('logger', ['--socket-errors=on', '-u', '/dev/log', marker]);
  const until = Date.now() + 10000;
  for (;;) {
    const lines = fs.readFileSync(file()).subarray(mark).toString('utf8').split('\n').filter((l) => l !== '');
    const at = lines.findIndex((l) => l.endsWith(marker));
    if (at >= 0) return lines.filter((l) => !l.includes('pam_mapi-test-marker-'));
    if (Date.now() > until) throw new Error(`the private syslog sink did not write ${marker} within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pam_mapi lines (without the syslog header) that mention needle. Debug lines are left
 * out unless asked for: the whole run may log with `debug` (the secrets audit). */
export function moduleLines(lines: string[], needle: string, opts: { debug?: boolean } = {}): string[] {
  const isDebug = (l: string): boolean => Number(/^<(\d+)>/.exec(l)?.[1] ?? 0) % 8 === 7;
  return lines
    .filter((l) => l.includes('pam_mapi(') && l.includes(needle) && (opts.debug === true || !isDebug(l)))
    .map((l) => l.slice(l.indexOf('pam_mapi(')));
}
