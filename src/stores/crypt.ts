// crypt(3) strings ({CRYPT} userPassword values, htpasswd's and Dovecot's crypt schemes) for
// every store: the system's own libcrypt (libxcrypt's crypt_rn) through native/crypt/crypt.cc,
// on libuv's thread pool. So every scheme the system knows is checked by the system's code
// (yescrypt "$y$", Debian's default; gost-yescrypt; scrypt "$7$"; bcrypt "$2b$"/"$2y$";
// SHA-crypt; MD5-crypt; DES), the event loop stays free while it runs, and no process is
// started per login.
import crypto from 'crypto';
import path from 'path';

interface CryptAddon {
  crypt(password: Buffer, setting: string): Promise<Buffer>;
  checkSalt(setting: string): 'ok' | 'invalid' | 'disabled' | 'legacy' | 'too-cheap';
}

/** A crypt string this system cannot check; the message names the scheme, never the value. */
export class CryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptError';
  }
}

let addon: CryptAddon | null = null;

/** Loaded at first use: a worker whose stores hold no crypt string never needs it. */
function load(): CryptAddon {
  if (addon === null) {
    try {
      // From dist/src/stores/crypt.js up to the repo root (or the installed tree's root).
      addon = require(path.resolve(__dirname, '../../../build/Release/system_crypt.node')) as CryptAddon;
    } catch (e) {
      throw new CryptError(`the crypt(3) addon cannot be loaded (build it with libcrypt-dev installed): ${(e as Error).message}`);
    }
  }
  return addon;
}

/** A short, non-secret name of the scheme of a crypt string, for log lines. */
export function cryptSchemeName(stored: string): string {
  const m = /^\$([^$]{1,8})\$/.exec(stored);
  if (m !== null) return `$${m[1]}$`;
  return /^[./0-9A-Za-z]{13}$/.test(stored) ? 'DES' : 'unknown';
}

/** A whole crypt(3) string, not only its setting: crypt_checksalt() reads only the setting, and
 * takes any text for a DES salt and its first two characters (so "secret" would pass). DES is
 * 13 characters; BSDi's extended DES 20; bcrypt 53 after "$2y$NN$"; every other "$id$" scheme
 * ends in a "$" and a hash of at least 22 characters. */
const COMPLETE_HASH = [/^[./0-9A-Za-z]{13}$/, /^_[./0-9A-Za-z]{19}$/, /^\$2[abxy]?\$[0-9]{2}\$[./0-9A-Za-z]{53}$/,
  /^\$(?!2[abxy]?\$)[^$]+\$[^\0]*\$[./0-9A-Za-z]{22,}$/];

/** Whether the system's libcrypt can check this string: what a file store asks when it loads a
 * line, so a hash it cannot check is that user's error at once, not at the first login. */
export function cryptSupported(stored: string): boolean {
  if (stored.length === 0 || stored.length >= 384 || !COMPLETE_HASH.some((re) => re.test(stored))) return false;
  const state = load().checkSalt(stored);
  // "legacy" is a scheme the system still checks but would not make now (DES, MD5-crypt):
  // existing hashes of those keep working.
  return state === 'ok' || state === 'legacy' || state === 'too-cheap';
}

/** Whether key crypts to stored. Throws CryptError when the system cannot compute the scheme
 * (unknown, disabled, malformed) or the request gave up before it ran. */
export async function verifyCrypt(stored: string, key: Buffer, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) throw new CryptError('gave up before crypt(3) ran');
  const scheme = cryptSchemeName(stored);
  if (stored.length === 0 || stored.length >= 384 || stored.includes('\0')) throw new CryptError(`{CRYPT}${scheme}: not a crypt(3) string`);
  // crypt(3) reads a C string: a password with a NUL byte cannot be what was hashed.
  if (key.includes(0)) return false;
  let computed: Buffer;
  try {
    computed = await load().crypt(key, stored);
  } catch (e) {
    throw new CryptError(`{CRYPT}${scheme}: ${(e as Error).message}`);
  }
  try {
    const expected = Buffer.from(stored, 'latin1');
    // The length of a crypt string is public (its scheme fixes it); the bytes are compared in
    // constant time.
    return computed.length === expected.length && crypto.timingSafeEqual(computed, expected);
  } finally {
    // The hash of a wrong password is a clue to it.
    computed.fill(0);
  }
}
