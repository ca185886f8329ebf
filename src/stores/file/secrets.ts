// What a users-file line stores for the password, and the check of a typed password against it.
// Each kind is checked the way the software that wrote it checks it: crypt(3) strings by the
// system's libcrypt (../crypt.ts), $apr1$ as Apache does (apr1.ts), the {SCHEME} digests with
// Node's crypto. Every comparison of password-derived bytes is in constant time.
import crypto from 'crypto';
import { verifyCrypt } from '../crypt';
import { verifyZarafaHash } from '../zarafa-hash';
import { apr1 } from './apr1';

export type StoredSecret =
  /** Kopano's salted MD5 (pam_mapi's own format). */
  | { kind: 'zarafa'; hash: string }
  /** A crypt(3) string: $y$, $2y$, $6$, $5$, $1$, DES, ... */
  | { kind: 'crypt'; hash: string }
  | { kind: 'apr1'; hash: string }
  /** digest(password || salt) == digest: {SHA}, {SSHA512}, {PLAIN-MD5}, ... */
  | { kind: 'digest'; algorithm: string; digest: Buffer; salt: Buffer }
  /** htdigest: md5("user:realm:password") as hex; prefix is "user:realm:". */
  | { kind: 'htdigest'; prefix: string; hex: string }
  /** Plain text: only where the admin allowed it (allow_plaintext). */
  | { kind: 'plain'; value: Buffer }
  | { kind: 'argon2'; hash: string };

/** An argon2 PHC string check (argon2.ts), loaded only when a file holds one. */
export type Argon2Verify = (hash: string, password: Buffer) => Promise<boolean>;

function sameBytes(a: Buffer, b: Buffer): boolean {
  // The lengths are the scheme's (digests) or the stored value's, never the typed password's:
  // a plain value is compared through its digest so its length does not show.
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export async function verifySecret(secret: StoredSecret, password: Buffer, signal: AbortSignal, argon2: () => Promise<Argon2Verify>): Promise<boolean> {
  switch (secret.kind) {
    case 'zarafa':
      return verifyZarafaHash(secret.hash, password);
    case 'crypt':
      return verifyCrypt(secret.hash, password, signal);
    case 'apr1':
      return sameBytes(Buffer.from(apr1(password, secret.hash), 'latin1'), Buffer.from(secret.hash, 'latin1'));
    case 'digest': {
      const computed = crypto.createHash(secret.algorithm).update(password).update(secret.salt).digest();
      try {
        return sameBytes(computed, secret.digest);
      } finally {
        computed.fill(0);
      }
    }
    case 'htdigest': {
      const computed = Buffer.from(crypto.createHash('md5').update(secret.prefix).update(password).digest('hex'), 'latin1');
      try {
        return sameBytes(computed, Buffer.from(secret.hex.toLowerCase(), 'latin1'));
      } finally {
        computed.fill(0);
      }
    }
    case 'plain': {
      const a = crypto.createHash('sha256').update(password).digest();
      const b = crypto.createHash('sha256').update(secret.value).digest();
      return sameBytes(a, b);
    }
    case 'argon2':
      return (await argon2())(secret.hash, password);
  }
}
