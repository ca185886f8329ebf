// crypt(3) for every store (src/stores/crypt.ts, native/crypt/crypt.cc): the system's libcrypt
// on libuv's thread pool. Hashes made by other implementations (OpenSSL's `passwd`, Apache's
// `htpasswd`) and by the system's libcrypt through perl are checked right and wrong; the check
// leaves the event loop free and starts no process.
import childProcess, { execFileSync } from 'child_process';
import { cryptSupported, verifyCrypt } from '../../src/stores/crypt';

const signal = new AbortController().signal;

/** crypt(3) of the system's libcrypt, through perl (password and setting as arguments: a test only). */
const perlCrypt = (password: Buffer, setting: string): string =>
  execFileSync('perl', ['-e', 'print crypt(pack("H*", $ARGV[0]), $ARGV[1])', password.toString('hex'), setting]).toString('latin1');

/** OpenSSL's own MD5-crypt and SHA-crypt: not libcrypt's code. */
const opensslCrypt = (password: Buffer, scheme: '1' | '5' | '6', salt: string): string =>
  execFileSync('openssl', ['passwd', `-${scheme}`, '-salt', salt, '-stdin'], { input: password }).toString('latin1').trim();

// Lengths around the digest block sizes (16, 32, 64) and non-UTF-8 bytes: the vectors the
// hand-written MD5-crypt and SHA-crypt were tested with.
const PASSWORDS = [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200].map((n) => Buffer.from('pässwörd-'.repeat(30)).subarray(0, n))
  .concat([Buffer.from([0xff, 0xfe, 0x80, 0x41])]);
const OPENSSL_SALTS: Array<['1' | '5' | '6', string]> = [['1', 'saltsalt'], ['1', 'x'], ['5', 'saltstring'], ['5', 'rounds=1000$roundsatmin'],
  ['5', 'rounds=1400$anotherlongsaltstring'], ['6', 'saltstring'], ['6', 'rounds=5000$roundsgiven'], ['6', 'rounds=1400$anotherlongsaltstring'], ['6', 'a.b/C9']];

test('Drepper\'s SHA-512-crypt example: "Hello world!" under saltstring', async () => {
  const stored = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
  expect(await verifyCrypt(stored, Buffer.from('Hello world!'), signal)).toBe(true);
  expect(await verifyCrypt(stored, Buffer.from('Hello world?'), signal)).toBe(false);
});

test('MD5-crypt and SHA-crypt made by OpenSSL, every salt form and password length: right in, one byte off out', async () => {
  for (const [scheme, salt] of OPENSSL_SALTS) {
    for (const pw of PASSWORDS) {
      const stored = opensslCrypt(pw, scheme, salt);
      const wrong = Buffer.from(pw);
      wrong[wrong.length - 1] ^= 1;
      expect([stored, pw.length, await verifyCrypt(stored, pw, signal), await verifyCrypt(stored, wrong, signal)]).toEqual([stored, pw.length, true, false]);
    }
  }
});

test('bcrypt $2y$ made by Apache\'s htpasswd', async () => {
  const line = execFileSync('htpasswd', ['-nbB', '-C', '5', 'u', 'Geheim!1']).toString().trim();
  const stored = line.slice(2);
  expect(stored).toMatch(/^\$2y\$05\$/);
  expect(await verifyCrypt(stored, Buffer.from('Geheim!1'), signal)).toBe(true);
  expect(await verifyCrypt(stored, Buffer.from('geheim!1'), signal)).toBe(false);
});

test.each(['$y$j9T$abcdefghijklmnop', '$gy$j9T$abcdefghijklmnop', '$7$CU..../....abcdefghijklmnop', '$2b$05$abcdefghijklmnopqrstuu',
  '$2y$05$abcdefghijklmnopqrstuu', '$6$rounds=40000$abc', '$5$abc', '$1$abc', 'ab'])('%s: right password in, wrong out', async (setting) => {
  const stored = perlCrypt(Buffer.from('Geheim!1'), setting);
  expect(stored.length).toBeGreaterThan(12);
  expect(cryptSupported(stored)).toBe(true);
  expect(await verifyCrypt(stored, Buffer.from('Geheim!1'), signal)).toBe(true);
  expect(await verifyCrypt(stored, Buffer.from('geheim!1'), signal)).toBe(false);
  expect(await verifyCrypt(stored, Buffer.from('Geheim!1\0x'), signal)).toBe(false);
});

test('a scheme the system does not know: an error naming the scheme only', async () => {
  await expect(verifyCrypt('$q$unknown$scheme', Buffer.from('x'), signal)).rejects.toThrow(/^\{CRYPT\}\$q\$: the system's crypt\(3\) does not support this scheme/);
  expect(cryptSupported('$q$unknown$scheme')).toBe(false);
  expect(cryptSupported('not a hash at all')).toBe(false);
  // crypt_checksalt() alone would take these for DES salts "se" and "ab".
  expect(cryptSupported('secret')).toBe(false);
  expect(cryptSupported('abcdefghijklm')).toBe(true);
  expect(cryptSupported('$6$abc')).toBe(false);
});

test.each(['$6$abcdefgh', '$1$abcdefgh', '$y$j9T$abcdefghijklmnop'])('%s runs off the event loop: other callbacks run while it computes', async (setting) => {
  const stored = perlCrypt(Buffer.from('Geheim!1'), setting);
  let ranBefore = false;
  let settledFirst = false;
  const check = verifyCrypt(stored, Buffer.from('Geheim!1'), signal).then((ok) => {
    settledFirst = !ranBefore;
    return ok;
  });
  // Computed on the loop before the promise is returned, the check would be settled before
  // this callback of the next loop turn could run.
  setImmediate(() => { ranBefore = true; });
  expect(await check).toBe(true);
  expect(settledFirst).toBe(false);
});

test('no process is started for a check (every scheme is the addon\'s)', async () => {
  const stored = perlCrypt(Buffer.from('Geheim!1'), '$y$j9T$abcdefghijklmnop');
  const spawn = jest.spyOn(childProcess, 'spawn');
  try {
    expect(await verifyCrypt(stored, Buffer.from('Geheim!1'), signal)).toBe(true);
    expect(await verifyCrypt(perlCrypt(Buffer.from('Geheim!1'), '$2b$05$abcdefghijklmnopqrstuu'), Buffer.from('x'), signal)).toBe(false);
    expect(spawn).not.toHaveBeenCalled();
  } finally {
    spawn.mockRestore();
  }
});
