// The entries the LDAP store found recently, kept for entry_cache_timeout so that the next
// authentication of the same login (a mail client's next connection) need not search again:
// SSSD's pam_id_timeout. What is kept is what the search and the access rules read (the DN, the
// account and feature attributes, the group answer), never a password or a password check:
// every authentication still binds, and an account check still searches (ldap-store.ts).
//
// Bounded: at most MAX_ENTRIES, the oldest evicted first; an entry older than the timeout is
// never answered and is dropped when met. Only entries found are kept, never an unknown name,
// so a flood of names nobody has costs what it cost before and holds no memory.
import type { Entry } from 'ldapts';

/** Entries kept per store: 3.4 MB of heap when full of the benchmark's entries (about 350 bytes
 * each; more with long feature or host lists). */
export const MAX_ENTRIES = 10_000;

export interface CachedEntry {
  /** The entry as the search returned it, without userPassword. */
  readonly entry: Entry;
  /** require_group's answer for this entry, once asked (only after a right password). */
  inGroup?: boolean;
  /** When it was read, on the monotonic clock (a wall clock set back must not extend it). */
  readonly readAt: number;
}

export class EntryCache {
  private readonly entries = new Map<string, CachedEntry>();

  /** timeoutMs 0: nothing is kept. */
  constructor(
    private readonly timeoutMs: number,
    private readonly maxEntries = MAX_ENTRIES,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.timeoutMs > 0;
  }

  /** The entry read for login within the timeout, or undefined. */
  get(login: string): CachedEntry | undefined {
    const e = this.entries.get(login);
    if (e === undefined) return undefined;
    const age = this.now() - e.readAt;
    if (age >= this.timeoutMs || age < 0) {
      this.entries.delete(login);
      return undefined;
    }
    return e;
  }

  /** Keeps what a fresh search found for login; returns the record to fill in (inGroup). */
  put(login: string, entry: Entry): CachedEntry {
    // Off: the record serves this request only, and nothing is copied.
    if (!this.enabled) return { entry, readAt: 0 };
    const record: CachedEntry = { entry: withoutPassword(entry), readAt: this.now() };
    // Re-inserted at the end: Map order is then the order of reading, oldest first.
    this.entries.delete(login);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(login, record);
    return record;
  }

  /** Forgets login: its DN no longer took the password, or it is gone. */
  drop(login: string): void {
    this.entries.delete(login);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The entry without userPassword (auth_method = password reads it): a hash is not kept. */
function withoutPassword(entry: Entry): Entry {
  const copy: Entry = { dn: entry.dn };
  for (const [key, value] of Object.entries(entry)) {
    if (key !== 'dn' && key.toLowerCase() !== 'userpassword') copy[key] = value;
  }
  return copy;
}
