// {CRYPT} userPassword values: crypt(3) strings. MD5-crypt and SHA-crypt at ordinary cost are
// computed here (no process per login, no dependency on perl); every other scheme, and SHA-crypt
// with a cost that would hold the event loop for long, goes to the system's crypt(3).
import crypto from 'crypto';
import { md5Crypt } from './md5-crypt';
import { parseShaCryptSetting, shaCrypt } from './sha-crypt';
import { systemCrypt, SystemCryptError } from './system-crypt';

/** SHA-512-crypt costs about 2 µs a round here: above this, one login would hold every other
 * request for over 40 ms. */
const MAX_ROUNDS_IN_PROCESS = 20_000;

/** A short, non-secret name of the scheme of a crypt string, for log lines. */
export function cryptSchemeName(stored: string): string {
  const m = /^\$([^$]{1,8})\$/.exec(stored);
  if (m !== null) return `$${m[1]}$`;
  return /^[./0-9A-Za-z]{13}$/.test(stored) ? 'DES' : 'unknown';
}

async function computeCrypt(key: Buffer, stored: string, signal: AbortSignal): Promise<string> {
  if (stored.startsWith('$1$')) {
    const out = md5Crypt(key, stored);
    if (out !== null) return out;
  }
  const sha = parseShaCryptSetting(stored);
  if (sha !== null && sha.rounds <= MAX_ROUNDS_IN_PROCESS) return shaCrypt(key, sha);
  try {
    return await systemCrypt(key, stored, signal);
  } catch (e) {
    if (e instanceof SystemCryptError) throw new SystemCryptError(`{CRYPT}${cryptSchemeName(stored)}: ${e.message}`);
    throw e;
  }
}

/** Whether key crypts to stored. Throws when the scheme cannot be computed here. */
export async function verifyCrypt(stored: string, key: Buffer, signal: AbortSignal): Promise<boolean> {
  const computed = Buffer.from(await computeCrypt(key, stored, signal), 'latin1');
  const expected = Buffer.from(stored, 'latin1');
  // The length of a crypt string is public (it is fixed by its scheme); the bytes are compared
  // in constant time.
  return computed.length === expected.length && crypto.timingSafeEqual(computed, expected);
}
