// auth_method = password: checks a password against userPassword values as OpenLDAP stores them,
// "{SCHEME}data" (RFC 2307, RFC 3112): salted and plain SHA-1 and MD5 digests, the SHA-2 ones of
// OpenLDAP's pw-sha2 module, and {CRYPT}. Every comparison of secret-derived bytes is in
// constant time. A cleartext or unknown value is not guessed at: the caller reports it.
import crypto from 'crypto';
import { verifyCrypt } from '../crypt';

interface DigestScheme {
  algorithm: string;
  size: number;
  /** Salted schemes store base64(digest(password || salt) || salt). */
  salted: boolean;
}

const DIGESTS: Readonly<Record<string, DigestScheme>> = {
  SHA: { algorithm: 'sha1', size: 20, salted: false },
  SSHA: { algorithm: 'sha1', size: 20, salted: true },
  MD5: { algorithm: 'md5', size: 16, salted: false },
  SMD5: { algorithm: 'md5', size: 16, salted: true },
  SHA256: { algorithm: 'sha256', size: 32, salted: false },
  SSHA256: { algorithm: 'sha256', size: 32, salted: true },
  SHA384: { algorithm: 'sha384', size: 48, salted: false },
  SSHA384: { algorithm: 'sha384', size: 48, salted: true },
  SHA512: { algorithm: 'sha512', size: 64, salted: false },
  SSHA512: { algorithm: 'sha512', size: 64, salted: true },
};

/** A userPassword value this store cannot check; the message names the scheme, never the value. */
export class UnsupportedPasswordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPasswordError';
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function verifyDigest(name: string, scheme: DigestScheme, data: string, password: Buffer): boolean {
  const decoded = BASE64.test(data) ? Buffer.from(data, 'base64') : null;
  if (decoded === null || (scheme.salted ? decoded.length <= scheme.size : decoded.length !== scheme.size)) {
    throw new UnsupportedPasswordError(`a {${name}} userPassword value is malformed`);
  }
  const digest = decoded.subarray(0, scheme.size);
  const salt = decoded.subarray(scheme.size);
  const computed = crypto.createHash(scheme.algorithm).update(password).update(salt).digest();
  return crypto.timingSafeEqual(computed, digest);
}

/** Whether password matches one stored userPassword value. Throws UnsupportedPasswordError for
 * a value it cannot check (cleartext, unknown scheme, malformed, a crypt(3) scheme the system
 * lacks). */
export async function verifyUserPassword(stored: Buffer, password: Buffer, signal: AbortSignal): Promise<boolean> {
  // Scheme names and their data are ASCII; latin1 maps every byte to one character, so a
  // stray byte cannot be merged into something else.
  const m = /^\{([A-Za-z0-9.-]+)\}([\s\S]*)$/.exec(stored.toString('latin1'));
  if (m === null) throw new UnsupportedPasswordError('a userPassword value has no {SCHEME} (cleartext is not compared)');
  const name = m[1].toUpperCase();
  if (name === 'CRYPT') {
    try {
      return await verifyCrypt(m[2], password, signal);
    } catch (e) {
      throw new UnsupportedPasswordError((e as Error).message);
    }
  }
  const digest = Object.hasOwn(DIGESTS, name) ? DIGESTS[name] : undefined;
  if (digest === undefined) throw new UnsupportedPasswordError(`the userPassword scheme {${name}} is not supported`);
  return verifyDigest(name, digest, m[2].trim(), password);
}
