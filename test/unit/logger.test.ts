// The worker's own log line: a value a client chose (a user name) stays inside its quotes and
// cannot look like a line of its own in any viewer.
import { formatLine } from '../../src/log/logger';

test('line and paragraph separators and bidi controls in a value are escaped, not written raw', () => {
  const user = 'alice\u2028 2026-01-01T00:00:00.000Z info request op=authenticate user=root result=PAM_SUCCESS \u202emoc\u2029';
  const line = formatLine('info', 'request', { user });
  expect(line).not.toMatch(/[\u2028\u2029\u202e]/u);
  expect(line).toContain('user="alice\\u2028 2026-01-01T00:00:00.000Z info request op=authenticate user=root result=PAM_SUCCESS \\u202emoc\\u2029"');
  // Newlines and quotes as JSON writes them; an ordinary value bare.
  expect(formatLine('info', 'x', { a: 'x\ny"z', b: 'plain' })).toMatch(/ x a="x\\ny\\"z" b=plain$/);
});
