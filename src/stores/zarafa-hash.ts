// Zarafa/Kopano password hashes: salt || hex(md5(salt || password)), the salt being 8 lowercase
// hex digits. This is the only implementation in the project; every store that meets such a
// value uses it.
import crypto from 'crypto';

const HASH_FORMAT = /^[0-9a-f]{8}[0-9a-f]{32}$/i;

export function isZarafaHash(value: string): boolean {
  return HASH_FORMAT.test(value);
}

export function zarafaHash(password: Buffer, salt: string = crypto.randomBytes(4).toString('hex')): string {
  if (!/^[0-9a-f]{8}$/.test(salt)) throw new Error('salt must be 8 lowercase hex digits');
  if (password.length === 0) throw new Error('an empty password cannot be hashed');
  return salt + digest(salt, password).toString('hex');
}

/** One-shot where Node has it (20.12 and later): no Hash object per check. */
const md5: (data: Buffer) => Buffer = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('md5', data, 'buffer')
  : (data) => crypto.createHash('md5').update(data).digest();

/** md5(salt || password) as bytes, from one buffer holding both, wiped whatever happens. */
function digest(salt: string, password: Buffer): Buffer {
  const input = Buffer.allocUnsafe(salt.length + password.length);
  input.write(salt, 0, 'latin1');
  password.copy(input, salt.length);
  try {
    return md5(input);
  } finally {
    input.fill(0);
  }
}

/** Constant-time check of password against a stored value. An empty password never matches,
 * nor does a stored value that is not a well-formed hash. */
export function verifyZarafaHash(stored: string, password: Buffer): boolean {
  if (password.length === 0 || !isZarafaHash(stored)) return false;
  // The digest as bytes against the stored hex decoded: no hex text of it.
  return crypto.timingSafeEqual(Buffer.from(stored.slice(8), 'hex'), digest(stored.slice(0, 8).toLowerCase(), password));
}
