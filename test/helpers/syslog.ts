// Reads what the module wrote through pam_syslog, from the private sink global-setup starts.
import fs from 'fs';

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

export async function syslogSince(mark: number, settleMs = 150): Promise<string[]> {
  // Datagrams are delivered before syslog() returns, but the sink writes them asynchronously.
  await new Promise((r) => setTimeout(r, settleMs));
  const buf = fs.readFileSync(file());
  return buf.subarray(mark).toString('utf8').split('\n').filter((l) => l !== '');
}

/** The pam_mapi lines (without the syslog header) that mention needle. Debug lines are left
 * out unless asked for: the whole run may log with `debug` (the secrets audit). */
export function moduleLines(lines: string[], needle: string, opts: { debug?: boolean } = {}): string[] {
  const isDebug = (l: string): boolean => Number(/^<(\d+)>/.exec(l)?.[1] ?? 0) % 8 === 7;
  return lines
    .filter((l) => l.includes('pam_mapi(') && l.includes(needle) && (opts.debug === true || !isDebug(l)))
    .map((l) => l.slice(l.indexOf('pam_mapi(')));
}
