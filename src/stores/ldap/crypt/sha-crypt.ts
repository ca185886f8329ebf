// SHA-crypt ("$5$" SHA-256, "$6$" SHA-512), Ulrich Drepper's specification
// (https://www.akkadia.org/drepper/SHA-crypt.txt), step numbers as there. The password is bytes.
import crypto from 'crypto';
import { b64From24Bit, SALT_CHARS } from './crypt-base64';

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;
const MAX_SALT = 16;

interface Variant {
  algorithm: 'sha256' | 'sha512';
  size: number;
  /** Byte triples of the final digest, in output order, and the last partial group. */
  groups: ReadonlyArray<readonly [number, number, number]>;
  tail: { bytes: readonly [number, number, number]; chars: number };
}

const VARIANTS: Readonly<Record<string, Variant>> = {
  '5': {
    algorithm: 'sha256',
    size: 32,
    groups: [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]],
    tail: { bytes: [-1, 31, 30], chars: 3 },
  },
  '6': {
    algorithm: 'sha512',
    size: 64,
    groups: [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51],
      [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41]],
    tail: { bytes: [-1, -1, 63], chars: 2 },
  },
};

export interface ShaCryptSetting {
  variant: Variant;
  id: string;
  rounds: number;
  roundsGiven: boolean;
  salt: string;
}

/** Reads "$5$[rounds=N$]salt[$hash]"; null when it is not a SHA-crypt value this file computes
 * exactly as the system would. */
export function parseShaCryptSetting(setting: string): ShaCryptSetting | null {
  const m = /^\$([56])\$(?:rounds=([0-9]{1,10})\$)?([^$]*)/.exec(setting);
  if (m === null) return null;
  const salt = m[3].slice(0, MAX_SALT);
  if (!SALT_CHARS.test(salt)) return null;
  const given = m[2] !== undefined;
  const rounds = given ? Number(m[2]) : ROUNDS_DEFAULT;
  // glibc clamps such a count, libxcrypt (Debian's libcrypt) refuses it: left to the system.
  if (rounds < ROUNDS_MIN || rounds > ROUNDS_MAX || (given && m[2] !== String(rounds))) return null;
  return { variant: VARIANTS[m[1]], id: m[1], rounds, roundsGiven: given, salt };
}

/** `length` bytes of `block` repeated (steps 16 and 20). */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let off = 0; off < length; off += block.length) block.copy(out, off, 0, Math.min(block.length, length - off));
  return out;
}

/** The full crypt string for key under the parsed setting. */
export function shaCrypt(key: Buffer, s: ShaCryptSetting): string {
  const { algorithm, size } = s.variant;
  const salt = Buffer.from(s.salt, 'latin1');
  const hash = (): crypto.Hash => crypto.createHash(algorithm);

  // Steps 4-8: digest B.
  const b = hash().update(key).update(salt).update(key).digest();
  // Steps 1-3, 9-12: digest A.
  const a = hash().update(key).update(salt);
  for (let left = key.length; left > 0; left -= size) a.update(b.subarray(0, Math.min(left, size)));
  for (let n = key.length; n > 0; n >>>= 1) a.update((n & 1) !== 0 ? b : key);
  const digestA = a.digest();
  // Steps 13-16: P.
  const dp = hash();
  for (let i = 0; i < key.length; i++) dp.update(key);
  const p = repeatTo(dp.digest(), key.length);
  // Steps 17-20: S.
  const ds = hash();
  for (let i = 0; i < 16 + digestA[0]; i++) ds.update(salt);
  const sBytes = repeatTo(ds.digest(), salt.length);
  // Step 21: the rounds.
  let c = digestA;
  for (let i = 0; i < s.rounds; i++) {
    const h = hash();
    h.update((i & 1) !== 0 ? p : c);
    if (i % 3 !== 0) h.update(sBytes);
    if (i % 7 !== 0) h.update(p);
    h.update((i & 1) !== 0 ? c : p);
    c = h.digest();
  }
  // Step 22: the output.
  const byte = (i: number): number => (i < 0 ? 0 : c[i]);
  let out = '';
  for (const [x, y, z] of s.variant.groups) out += b64From24Bit(c[x], c[y], c[z], 4);
  const [x, y, z] = s.variant.tail.bytes;
  out += b64From24Bit(byte(x), byte(y), byte(z), s.variant.tail.chars);
  const rounds = s.roundsGiven ? `rounds=${s.rounds}$` : '';
  return `$${s.id}$${rounds}${s.salt}$${out}`;
}
