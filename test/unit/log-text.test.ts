// Every text the module writes to syslog for the worker (a RESULT's LOG entries, an ERROR's
// text) is one line: a store's error message carries text others chose (an LDAP server's
// diagnostic, a KDC's realm), and a line break in it would let them start a line of their own,
// such as a forged failure line for the fail2ban jail.
import { Field } from '../../src/protocol/constants';
import { decodeFields } from '../../src/protocol/frame';
import { errorFrame, resultFrame } from '../../src/protocol/messages';

const FORGED = 'krb5 store: the KDC said: x\nNov 30 00:00:00 mail sshd[1]: pam_mapi(smtp:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=198.51.100.66';
const BREAKS = ['\n', '\r', '\u0085', '\u2028', '\u2029', '\x00', '\x1b', '\x7f'];

/** The LOG entries' texts (after their level byte) and the TEXT of a frame. */
function texts(frame: Buffer): string[] {
  return decodeFields(frame.subarray(8)).flatMap((f) => (f.tag === Field.LOG ? [f.value.subarray(1).toString('utf8')] : f.tag === Field.TEXT ? [f.value.toString('utf8')] : []));
}

test.each(BREAKS)('a LOG entry with %j is one line, the character shown escaped', (c) => {
  const [text] = texts(resultFrame('AUTHINFO_UNAVAIL', 0, [{ level: 'ERR', text: FORGED.replace('\n', c) }]));
  expect(text).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/u);
  expect(text).toContain(c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16)}`);
  expect(text).toContain('rhost=198.51.100.66'); // the text stays readable, on the same line
});

test('an ERROR text is one line too', () => {
  const [text] = texts(errorFrame('MALFORMED', FORGED));
  expect(text).not.toContain('\n');
  expect(text).toContain('\\x0a');
});

test('an already escaped failure line passes unchanged', () => {
  const line = 'authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=127.0.0.1  user=x\\x20rhost\\x3d1';
  expect(texts(resultFrame('AUTH_ERR', 0, [{ level: 'NOTICE', text: line }]))).toEqual([line]);
});
