// MD5-crypt ("$1$"), Poul-Henning Kamp's FreeBSD scheme as glibc and libxcrypt implement it.
// The password is bytes: nothing here decodes it as text.
import crypto from 'crypto';
import { b64From24Bit, SALT_CHARS } from './crypt-base64';

const MAGIC = '$1$';
const MAX_SALT = 8;

const md5 = (...parts: Buffer[]): Buffer => {
  const h = crypto.createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The full "$1$salt$hash" string for key under the salt of setting, or null when setting is
 * not an MD5-crypt value. */
export function md5Crypt(key: Buffer, setting: string): string | null {
  if (!setting.startsWith(MAGIC)) return null;
  const rest = setting.slice(MAGIC.length);
  const end = rest.indexOf('$');
  const saltText = (end === -1 ? rest : rest.slice(0, end)).slice(0, MAX_SALT);
  if (!SALT_CHARS.test(saltText)) return null;
  const salt = Buffer.from(saltText, 'latin1');

  const ctx = crypto.createHash('md5');
  ctx.update(key);
  ctx.update(MAGIC);
  ctx.update(salt);
  const alt = md5(key, salt, key);
  for (let left = key.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(left, 16)));
  // Kamp's original quirk, kept by every implementation: a NUL byte for a set bit, the first
  // byte of the key for a clear one.
  for (let i = key.length; i !== 0; i >>>= 1) ctx.update((i & 1) !== 0 ? Buffer.alloc(1) : key.subarray(0, 1));
  let final = ctx.digest();

  for (let i = 0; i < 1000; i++) {
    const c = crypto.createHash('md5');
    c.update((i & 1) !== 0 ? key : final);
    if (i % 3 !== 0) c.update(salt);
    if (i % 7 !== 0) c.update(key);
    c.update((i & 1) !== 0 ? final : key);
    final = c.digest();
  }

  const f = final;
  const hash = b64From24Bit(f[0], f[6], f[12], 4) + b64From24Bit(f[1], f[7], f[13], 4) + b64From24Bit(f[2], f[8], f[14], 4)
    + b64From24Bit(f[3], f[9], f[15], 4) + b64From24Bit(f[4], f[10], f[5], 4) + b64From24Bit(0, 0, f[11], 2);
  return `${MAGIC}${saltText}$${hash}`;
}
