// The failure line cannot be forged or bent: every value (logname, tty, ruser, rhost, user) is
// one token without white space, `=`, quotes or backslashes; each is clipped to its own bound,
// so the line stays within the protocol's LOG limit and rhost is never cut or moved by what the
// client chose as its name. The limits the shim applies are the ones docs/protocol.md states.
import fs from 'fs';
import path from 'path';
import { LIMITS } from '../../src/protocol/constants';
import { decodeFields } from '../../src/protocol/frame';
import { resultFrame } from '../../src/protocol/messages';
import { REPO_ROOT } from '../../src/sandbox/sandbox';
import { CUT_MARK, failureLine, FIELD_BOUNDS, LineContext, LONGEST_FAILURE_LINE, logField } from '../../src/worker/syslog-line';

const FIELDS = ['logname', 'uid', 'euid', 'tty', 'ruser', 'rhost', 'user'];
const HOSTILE = [
  'x rhost=198.51.100.66', 'x rhost=198.51.100.66 user=y', 'x" rhost="198.51.100.66', "x' rhost='198.51.100.66",
  'x\\ rhost=198.51.100.66', 'x\trhost=198.51.100.66', 'x\nFAKE: rhost=198.51.100.66', 'x\u00a0rhost=198.51.100.66',
  'x\u2028rhost=198.51.100.66', 'x\u3000rhost=198.51.100.66', 'x\u202erhost=198.51.100.66', 'x\u0085rhost=198.51.100.66',
  'x=rhost=198.51.100.66', 'x\x1frhost=198.51.100.66',
];
const ctx = (over: Partial<LineContext> = {}): LineContext => ({ logname: '', uid: 0, euid: 0, tty: '', ruser: '', rhost: '127.0.0.12', ...over });

/** The line as the module receives it in a RESULT's LOG field (after the worker's clip). */
function received(line: string): string {
  const log = decodeFields(resultFrame('AUTH_ERR', 0, [{ level: 'NOTICE', text: line }]).subarray(8)).find((f) => f.value.length > 4);
  return log?.value.subarray(1).toString('utf8') ?? '';
}

/** The line's fields in order, as a strict key=value reader splits it. */
function fields(line: string): Array<[string, string]> {
  const prefix = 'authentication failure; ';
  expect(line.startsWith(prefix)).toBe(true);
  return line.slice(prefix.length).split(' ').map((tok) => {
    const eq = tok.indexOf('=');
    return [tok.slice(0, eq), tok.slice(eq + 1)];
  });
}

test('a hostile value in any field stays one value: no space, no second =, no quote or bare backslash', () => {
  for (const bad of HOSTILE) {
    const lines = [
      failureLine(ctx({ logname: bad }), Buffer.from('u')), failureLine(ctx({ tty: bad }), Buffer.from('u')),
      failureLine(ctx({ ruser: bad }), Buffer.from('u')), failureLine(ctx(), Buffer.from(bad)),
    ];
    for (const line of lines) {
      const f = fields(line);
      expect(f.map(([k]) => k)).toEqual(FIELDS);
      for (const [, v] of f) expect(v).not.toMatch(/[\s="']|\\(?!x[0-9a-f]{2})/u);
      expect(line.match(/rhost=/g)).toHaveLength(1);
      expect(f[5][1]).toBe('127.0.0.12');
    }
  }
});

test('escapes are \\xNN per byte, so they read back unambiguously; readable UTF-8 stays', () => {
  expect(logField('a b=c"d\'e\\f', 100)).toBe('a\\x20b\\x3dc\\x22d\\x27e\\x5cf');
  expect(logField('x\u2028y\u00a0z\u0085', 100)).toBe('x\\xe2\\x80\\xa8y\\xc2\\xa0z\\xc2\\x85');
  // Invalid UTF-8, byte by byte; a valid character after it is kept.
  expect(logField(Buffer.from([0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]), 100)).toBe('a\\xff\\xc3(\\xed\\xa0\\x80');
  expect(logField('jürgen.müller@example.org', 100)).toBe('jürgen.müller@example.org');
});

test('each value is clipped on its own bound, between escapes and characters, and marked', () => {
  expect(logField('a'.repeat(64), 64)).toBe('a'.repeat(64));
  expect(logField('a'.repeat(65), 64)).toBe('a'.repeat(64 - CUT_MARK.length) + CUT_MARK);
  // 20 escapes of 4 bytes in a bound of 30: 6 whole escapes, then the mark (never "\x2").
  expect(logField(' '.repeat(20), 30)).toBe('\\x20'.repeat(6) + CUT_MARK);
  expect(logField('ü'.repeat(40), 31)).toBe('ü'.repeat(13) + CUT_MARK);
});

test('the longest line the bounds allow fits the LOG limit, and the worker never has to cut it', () => {
  expect(LONGEST_FAILURE_LINE).toBeLessThanOrEqual(LIMITS.text);
  const huge = '\u2028'.repeat(LIMITS.text); // 3 bytes, 12 escaped, per character
  const line = failureLine({ logname: huge, uid: 4294967295, euid: 4294967295, tty: huge, ruser: huge, rhost: huge }, Buffer.from(huge));
  expect(Buffer.byteLength(line)).toBeLessThanOrEqual(LONGEST_FAILURE_LINE);
  expect(received(line)).toBe(line);
});

test.each([1968, 1980, 2000, LIMITS.text + 1])('a %d-character login in ruser and user leaves rhost whole, in its place', (n) => {
  // Dovecot puts the login into PAM_RUSER; the shim sends at most limit + 1 bytes of each.
  const login = 'a'.repeat(n - 20) + ' rhost=198.51.100.66';
  const line = received(failureLine(ctx({ tty: 'dovecot', ruser: login }), Buffer.from(login.slice(0, LIMITS.user + 1))));
  const f = fields(line);
  expect(f.map(([k]) => k)).toEqual(FIELDS);
  expect(f[5]).toEqual(['rhost', '127.0.0.12']);
  expect(f[4][1].endsWith(CUT_MARK)).toBe(true);
  expect(f[6]).toEqual(['user', login.slice(0, LIMITS.user + 1)]);
});

test('an rhost too long to be a host is cut with a mark that no address or host name ends in', () => {
  const rhost = '203.0.113.7'.padEnd(FIELD_BOUNDS.rhost + 10, '7');
  const value = fields(failureLine(ctx({ rhost }), null))[5][1];
  expect(value.endsWith(CUT_MARK)).toBe(true);
  // Not a token of the characters addresses and host names are made of.
  expect(value).not.toMatch(/^[\w.:%[\]-]+$/);
  // Any real host name or address is kept whole.
  const name = `${'h'.repeat(63)}.`.repeat(3) + 'example.org';
  expect(fields(failureLine(ctx({ rhost: name }), null))[5][1]).toBe(name);
  expect(fields(failureLine(ctx({ rhost: 'fe80::1%eth0' }), null))[5][1]).toBe('fe80::1%eth0');
});

test('docs/protocol.md states the caps the shim applies (limit + 1 of constants.json)', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/protocol.md'), 'utf8');
  const caps = new Map([...doc.matchAll(/^\| ([A-Z, ]+(?:each ARG)?) \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]));
  expect(caps.get('USER')).toBe(LIMITS.user + 1);
  expect(caps.get('PASSWORD')).toBe(LIMITS.password + 1);
  expect(caps.get('SERVICE, RHOST, RUSER, TTY, LOGNAME, each ARG')).toBe(LIMITS.text + 1);
  // And the shim really caps those items with the text limit.
  const shim = fs.readFileSync(path.join(REPO_ROOT, 'native/shim/pam_mapi.c'), 'utf8');
  for (const item of ['SERVICE', 'RHOST', 'RUSER', 'TTY', 'LOGNAME']) expect(shim).toMatch(new RegExp(`pmp_put_capped\\(&w, PMP_F_${item}, [^;]*PMP_LIMIT_TEXT\\);`));
});
