// Characters a log viewer may take for a line break or use to reorder what it shows are escaped
// in the worker's log and in the accounting log alike, and the JSON still reads back as the
// value that was logged.
import { formatLine } from '../../src/log/logger';
import { accountingLine } from '../../src/worker/accounting';

const HOSTILE = 'alice\u2028 info request user=root result=PAM_SUCCESS \u202emoc\u2029';

test('the accounting line escapes them, and parses back to the same user', () => {
  const line = accountingLine({ op: 'authenticate', service: 'imap', user: Buffer.from(HOSTILE), rhost: '192.0.2.1', store: 'default', result: 'AUTH_ERR', reason: 'wrong password', ms: 1 }, new Date(0));
  expect(line.slice(0, -1)).not.toMatch(/[\u2028\u2029\u202e]/u);
  expect(JSON.parse(line).user).toBe(HOSTILE);
});

test('a private-use character beyond U+FFFF reads back as itself', () => {
  const value = 'x\u{F0000}y';
  const line = formatLine('info', 'request', { user: value });
  expect(line).not.toMatch(/\u{F0000}/u);
  const quoted = /user=(".*")/.exec(line)?.[1] ?? '';
  expect(JSON.parse(quoted)).toBe(value);
});
