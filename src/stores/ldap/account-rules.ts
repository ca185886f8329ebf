// What a directory entry says about its account, beyond the password: disabled or expired the
// way Active Directory marks it, not a Kopano account, or not meant for this host.
import { StoreUnavailableError } from '../store';
import type { AccountState } from '../store';

/** userAccountControl's ACCOUNTDISABLE bit. */
const ACCOUNTDISABLE = 0x2n;
/** accountExpires: 100 ns intervals since 1601-01-01 UTC; these two mean "never". */
const NEVER = [0n, 0x7fff_ffff_ffff_ffffn];
const INTERVALS_PER_MS = 10_000n;
const MS_FROM_1601_TO_1970 = 11_644_473_600_000n;

/** The attributes these rules read; absent ones do not apply. */
export const RULE_ATTRIBUTES = ['userAccountControl', 'accountExpires', 'kopanoAccount', 'zarafaAccount',
  'kopanoSharedStoreOnly', 'zarafaSharedStoreOnly', 'kopanoResourceType', 'zarafaResourceType'] as const;

function integer(attribute: string, values: readonly string[]): bigint | null {
  if (values.length === 0) return null;
  const v = values[0].trim();
  // A value we cannot read might be hiding a disabled account: no answer rather than a guess.
  if (!/^-?[0-9]{1,20}$/.test(v)) throw new StoreUnavailableError(`the entry's ${attribute} "${v.slice(0, 40)}" is not a number`);
  return BigInt(v);
}

/** The state the entry's own attributes give: 'inactive' when disabled, not a Kopano account, a
 * shared store or a resource,
 * 'expired' when accountExpires has passed. */
export function entryState(get: (attribute: string) => string[], now: number, nonActiveAttribute: string | null = null): AccountState {
  const uac = integer('userAccountControl', get('userAccountControl'));
  if (uac !== null && (uac & ACCOUNTDISABLE) !== 0n) return 'inactive';
  for (const flag of ['kopanoAccount', 'zarafaAccount']) {
    if (integer(flag, get(flag)) === 0n) return 'inactive';
  }
  // What Kopano's LDAP plugin makes a non-active user (a store without a login) or a room or
  // equipment: none of them logs on, as in the database store.
  for (const flag of ['kopanoSharedStoreOnly', 'zarafaSharedStoreOnly']) {
    if (integer(flag, get(flag)) === 1n) return 'inactive';
  }
  // Kopano reads its non-active attribute as a number (atoi), non-zero meaning no login; 0,
  // false, no and an empty value mean a login. Other text, which Kopano would read as 0, is
  // taken for "no login" rather than guessed to be one.
  if (nonActiveAttribute !== null && get(nonActiveAttribute).some((v) => !/^(?:[+-]?0+|false|no|)$/i.test(v.trim()))) return 'inactive';
  if (['kopanoResourceType', 'zarafaResourceType'].some((a) => get(a).some((v) => v.trim() !== ''))) return 'inactive';
  const expires = integer('accountExpires', get('accountExpires'));
  if (expires !== null && !NEVER.includes(expires) && expires / INTERVALS_PER_MS - MS_FROM_1601_TO_1970 <= BigInt(now)) return 'expired';
  return 'active';
}

/** The short form of a host name: up to the first dot. */
function short(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}

/** host_attribute: the entry lists this host (full or short name, without regard to case) or
 * `*`. No values: no host is allowed, as sssd's host access rule has it. */
export function hostAllowed(values: readonly string[], hostname: string): boolean {
  const mine = new Set([hostname.toLowerCase(), short(hostname).toLowerCase()]);
  return values.some((v) => {
    const h = v.trim().toLowerCase();
    return h === '*' || mine.has(h);
  });
}

/** Feature names from attribute values: one a value, as Kopano writes them, but a value listing
 * several (separated by spaces or commas) is read as several. */
export function featureList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/[\s,]+/)).filter((f) => f !== '');
}
