// Vectors computed outside the code under test: printf '%s%s' SALT PASSWORD | md5sum
import { isZarafaHash, verifyZarafaHash, zarafaHash } from '../../src/stores/zarafa-hash';

const VECTORS: Array<[string, string, string]> = [
  ['1a2b3c4d', 'secret', '145067bcf68d75da15b70e669c329078'],
  ['00000000', 'wonderland', '3fd4ccb771c545e59c383ce63d5afcd2'],
  ['deadbeef', 'pässwörd€', '0bcd411b3bdde0af7a7f41354aaf1a75'],
  ['ffffffff', 'a', 'ed047597622b853ce12ab991b1bec132'],
];

describe('Zarafa salted MD5', () => {
  test.each(VECTORS)('salt %s password %s', (salt, password, md5) => {
    const stored = salt + md5;
    expect(zarafaHash(Buffer.from(password, 'utf8'), salt)).toBe(stored);
    expect(verifyZarafaHash(stored, Buffer.from(password, 'utf8'))).toBe(true);
    expect(verifyZarafaHash(stored.toUpperCase(), Buffer.from(password, 'utf8'))).toBe(true);
    expect(verifyZarafaHash(stored, Buffer.from(password + 'x', 'utf8'))).toBe(false);
    expect(verifyZarafaHash(stored, Buffer.from(password.slice(0, -1), 'utf8'))).toBe(false);
  });

  test('an empty password never matches, not even a hash of nothing', () => {
    // printf '1a2b3c4d' | md5sum -> the hash of salt + empty password
    const ofEmpty = '1a2b3c4d' + '1897a69ef451f0991bb85c6e7c35aa31';
    expect(verifyZarafaHash(ofEmpty, Buffer.alloc(0))).toBe(false);
    expect(() => zarafaHash(Buffer.alloc(0), '1a2b3c4d')).toThrow();
  });

  test('malformed stored values never match', () => {
    for (const bad of ['', 'secret', '1a2b3c4d', '1a2b3c4d145067bcf68d75da15b70e669c32907', 'zzzzzzzz145067bcf68d75da15b70e669c329078']) {
      expect(isZarafaHash(bad)).toBe(false);
      expect(verifyZarafaHash(bad, Buffer.from('secret'))).toBe(false);
    }
  });

  test('a fresh hash has a random 8-hex-digit salt and verifies', () => {
    const a = zarafaHash(Buffer.from('pw'));
    const b = zarafaHash(Buffer.from('pw'));
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(a).not.toBe(b);
    expect(verifyZarafaHash(a, Buffer.from('pw'))).toBe(true);
  });
});

test('the copy of the password the check makes is wiped even when MD5 fails (a FIPS-mode OpenSSL)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('crypto') as typeof import('crypto');
  const seen: Buffer[] = [];
  const spy = jest.spyOn(crypto, 'hash').mockImplementation(((_algorithm: string, data: Buffer) => {
    seen.push(data);
    throw new Error('digital envelope routines::unsupported');
  }) as unknown as typeof crypto.hash);
  try {
    expect(() => verifyZarafaHash(`1a2b3c4d${'0'.repeat(32)}`, Buffer.from('wonderland'))).toThrow(/unsupported/);
  } finally {
    spy.mockRestore();
  }
  expect(seen).toHaveLength(1);
  expect(seen[0].length).toBe(8 + 'wonderland'.length);
  expect(seen[0].every((b) => b === 0)).toBe(true);
});

test('without crypto.hash (Node before 20.12): the same hashes through createHash, and its input wiped', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('crypto') as typeof import('crypto');
  const seen: Buffer[] = [];
  const createHash = crypto.createHash;
  const hash = Object.getOwnPropertyDescriptor(crypto, 'hash');
  Object.defineProperty(crypto, 'hash', { value: undefined, configurable: true, writable: true });
  const spy = jest.spyOn(crypto, 'createHash').mockImplementation(((algorithm: string) => {
    const h = createHash(algorithm);
    const update = h.update.bind(h);
    h.update = ((data: Buffer) => { seen.push(data); return update(data); }) as typeof h.update;
    return h;
  }) as typeof crypto.createHash);
  try {
    let fresh: typeof import('../../src/stores/zarafa-hash') | undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jest.isolateModules(() => { fresh = require('../../src/stores/zarafa-hash') as typeof import('../../src/stores/zarafa-hash'); });
    const [salt, password, md5] = VECTORS[2];
    expect(fresh?.verifyZarafaHash(salt + md5, Buffer.from(password, 'utf8'))).toBe(true);
    expect(fresh?.zarafaHash(Buffer.from(password, 'utf8'), salt)).toBe(salt + md5);
  } finally {
    spy.mockRestore();
    if (hash !== undefined) Object.defineProperty(crypto, 'hash', hash);
  }
  expect(seen).toHaveLength(2);
  for (const input of seen) expect(input.every((b) => b === 0)).toBe(true);
});
