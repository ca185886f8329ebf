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

/** Whose lines syslogSince returns. The jest workers run suites side by side and share one
 * sink, so by default only the lines this process sent (its PAM transactions run in process):
 * another suite's line must not stand in for the one a test waits for. A test reading what a
 * child sent (a CLI, a mail daemon) asks for 'any' and picks its lines by what they say. */
export type SyslogFrom = 'this process' | 'any';

/** Lines written after `mark`, without the sender's pid the sink puts first. The sink writes
 * datagrams in the order they came, but asynchronously: a marker of our own is sent through
 * /dev/log after them, and the lines are read once the marker is written (a fixed wait alone
 * lost lines on a loaded machine). */
export async function syslogSince(mark: number, settleMs = 150, from: SyslogFrom = 'this process'): Promise<string[]> {
  // Lines another process (a mail daemon) may still send: the caller's wait, then the marker.
  await new Promise((r) => setTimeout(r, settleMs));
  const marker = `pam_mapi-test-marker-${process.pid}-${++markers}`;
  execFileSync('logger', ['--socket-errors=on', '-u', '/dev/log', marker]);
  const until = Date.now() + 10000;
  for (;;) {
    const lines = fs.readFileSync(file()).subarray(mark).toString('utf8').split('\n').filter((l) => l !== '').map(senderAndText);
    if (lines.some((l) => l.text.endsWith(marker))) {
      return lines.filter((l) => !l.text.includes('pam_mapi-test-marker-') && (from === 'any' || l.pid === process.pid)).map((l) => l.text);
    }
    if (Date.now() > until) throw new Error(`the private syslog sink did not write ${marker} within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function senderAndText(line: string): { pid: number; text: string } {
  const space = line.indexOf(' ');
  const pid = /^[0-9]+$/.test(line.slice(0, space)) ? Number(line.slice(0, space)) : NaN;
  if (Number.isNaN(pid)) throw new Error(`a line of the private syslog sink does not start with the sender's pid: ${JSON.stringify(line)}`);
  return { pid, text: line.slice(space + 1) };
}

/** The pam_mapi lines (without the syslog header) that mention needle. Debug lines are left
 * out unless asked for: the whole run may log with `debug` (the secrets audit). */
export function moduleLines(lines: string[], needle: string, opts: { debug?: boolean } = {}): string[] {
  const isDebug = (l: string): boolean => Number(/^<(\d+)>/.exec(l)?.[1] ?? 0) % 8 === 7;
  return lines
    .filter((l) => l.includes('pam_mapi(') && l.includes(needle) && (opts.debug === true || !isDebug(l)))
    .map((l) => l.slice(l.indexOf('pam_mapi(')));
}
