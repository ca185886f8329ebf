// The private syslog sink the suites share: each reads back only the lines its own process sent
// unless it asks for any. (That its own lines still come back is what doctor-typos and the
// store contract rely on.) Two suites running side by side once failed without this: another's
// "ldap store: no answer within 750 ms" stood in for the line a Kerberos test waited for.
import { execFileSync } from 'child_process';
import { syslogMark, syslogSince } from '../helpers/syslog';

const other = (text: string): void => {
  execFileSync('logger', ['--socket-errors=on', '-u', '/dev/log', '-p', 'authpriv.err', text]);
};

test('a line another process sent is left out by default and kept with "any"', async () => {
  const mark = syslogMark();
  const text = `pam_mapi(smtp:auth): ldap store: from another process ${process.pid}`;
  other(text);
  const own = await syslogSince(mark, 0);
  expect(own.filter((l) => l.includes(text))).toEqual([]);
  const any = await syslogSince(mark, 0, 'any');
  expect(any.filter((l) => l.endsWith(text))).toHaveLength(1);
});
