// A table of throttle entries that never holds more than its bound, whatever an attacker sends:
// a Map kept in least-recently-used order (a touched key moves to the end), and, when full, the
// entry dropped is the least valuable of the oldest few, so a flood of new names or addresses
// pushes out other flood entries before it pushes out a lock or a known-good address.

export interface Entry {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
  /** Name-and-address entries: the address is known good for the name until then. */
  goodUntilMs: number;
  /** Name-and-address entries: keyed digests of the last wrong passwords (RECENT of them). */
  recent: Buffer | null;
  recentNext: number;
}

/** How many of the oldest entries are looked at to choose the one to drop. */
const SAMPLE = 8;

export class BoundedTable {
  private readonly map = new Map<string, Entry>();

  constructor(public max: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The entry, moved to the young end; undefined when there is none. */
  get(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.map.delete(key);
      this.map.set(key, e);
    }
    return e;
  }

  getOrCreate(key: string, nowMs: number): Entry {
    const e = this.get(key);
    if (e !== undefined) return e;
    while (this.map.size >= this.max) this.dropOne(nowMs);
    const fresh: Entry = { failures: 0, lastFailureMs: 0, lockedUntilMs: 0, goodUntilMs: 0, recent: null, recentNext: 0 };
    this.map.set(key, fresh);
    return fresh;
  }

  private dropOne(nowMs: number): void {
    let victim: string | undefined;
    let worst = Infinity;
    let i = 0;
    for (const [key, e] of this.map) {
      // A lock outweighs any count, a known-good address outweighs a count of failures.
      const worth = (e.lockedUntilMs > nowMs ? 2e9 : 0) + (e.goodUntilMs > nowMs ? 1e9 : 0) + e.failures;
      if (worth < worst) {
        worst = worth;
        victim = key;
      }
      if (++i >= SAMPLE) break;
    }
    if (victim !== undefined) this.map.delete(victim);
  }

  /** Every entry, oldest first (for the admin's view of the state). */
  entries(): IterableIterator<[string, Entry]> {
    return this.map.entries();
  }
}
