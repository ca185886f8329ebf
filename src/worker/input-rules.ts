// The contract's bad-input rows: what is refused before any store is asked.
import { LIMITS } from '../protocol/constants';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The user name as text, or why it is refused: empty, over 256 bytes, not UTF-8, or with
 * control characters. */
export function checkUserName(raw: Buffer | null): { ok: true; name: string } | { ok: false; why: string } {
  if (raw === null || raw.length === 0) return { ok: false, why: 'empty user name' };
  if (raw.length > LIMITS.user) return { ok: false, why: `user name longer than ${LIMITS.user} bytes` };
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    return { ok: false, why: 'user name is not valid UTF-8' };
  }
  // C0 and C1 controls and DEL.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return { ok: false, why: 'user name contains control characters' };
  return { ok: true, name };
}

/** Why a password is refused without asking the store, or null when it may be checked. */
export function checkPassword(secret: Buffer): string | null {
  if (secret.length === 0) return 'empty password';
  if (secret.length > LIMITS.password) return `password longer than ${LIMITS.password} bytes`;
  if (secret.includes(0)) return 'password contains a NUL byte';
  return null;
}
