// Apache's "$apr1$" (htpasswd -m, its default): Poul-Henning Kamp's MD5-crypt with the magic
// "$apr1$" in place of "$1$". libxcrypt does not compute it; the npm packages that do take the
// password as a string (which could not be wiped, and would mangle bytes that are not UTF-8),
// so it is computed here on the password's bytes: 1000 MD5 rounds, well under a millisecond.
// test/integration/file-formats.test.ts checks it against Apache's htpasswd and OpenSSL's passwd.
import crypto from 'crypto';

const MAGIC = '$apr1$';
const MAX_SALT = 8;
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const APR1_HASH = /^\$apr1\$[./0-9A-Za-z]{0,8}\$[./0-9A-Za-z]{22}$/;

/** n characters of crypt's base-64 for the 24-bit number b2:b1:b0, six bits at a time from the lowest. */
function b64From24Bit(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** The full "$apr1$salt$hash" for key under the salt of stored (an APR1_HASH). */
export function apr1(key: Buffer, stored: string): string {
  const saltText = stored.slice(MAGIC.length, stored.indexOf('$', MAGIC.length)).slice(0, MAX_SALT);
  const salt = Buffer.from(saltText, 'latin1');
  const md5 = (): crypto.Hash => crypto.createHash('md5');

  const ctx = md5().update(key).update(MAGIC).update(salt);
  const alt = md5().update(key).update(salt).update(key).digest();
  for (let left = key.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(left, 16)));
  // Kamp's quirk, kept by every implementation: a NUL byte for a set bit, the key's first byte
  // for a clear one.
  for (let i = key.length; i !== 0; i >>>= 1) ctx.update((i & 1) !== 0 ? Buffer.alloc(1) : key.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = md5();
    c.update((i & 1) !== 0 ? key : final);
    if (i % 3 !== 0) c.update(salt);
    if (i % 7 !== 0) c.update(key);
    c.update((i & 1) !== 0 ? final : key);
    final.fill(0);
    final = c.digest();
  }
  const f = final;
  const hash = b64From24Bit(f[0], f[6], f[12], 4) + b64From24Bit(f[1], f[7], f[13], 4) + b64From24Bit(f[2], f[8], f[14], 4)
    + b64From24Bit(f[3], f[9], f[15], 4) + b64From24Bit(f[4], f[10], f[5], 4) + b64From24Bit(0, 0, f[11], 2);
  alt.fill(0);
  final.fill(0);
  return `${MAGIC}${saltText}$${hash}`;
}
