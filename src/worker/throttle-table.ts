// A table of throttle entries that never holds more than its bound, whatever an attacker sends,
// at a constant cost per request. Two generations of at most max/2 entries each: new and touched
// entries go to the young one; when it is full the old one is dropped and the young one becomes
// old. Entries of the dropped generation that still lock a key or mark an address known good are
// carried into the new young one (up to a quarter of the bound), so a flood of new names or
// addresses pushes out other flood entries, not a lock. (A Map used as an LRU list and scanned
// from its oldest end costs time proportional to the deletions behind it: a flood of a million
// names took 270 µs a request that way.)

export interface Entry {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
  /** Name-and-address entries: the address is known good for the name until then. */
  goodUntilMs: number;
  /** Name-and-address entries: the last wrong passwords, as 48-bit keyed digests (0: none). */
  recent: [number, number, number, number];
  recentNext: number;
}

export class BoundedTable {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();

  constructor(public max: number) {}

  get size(): number {
    return this.young.size + this.old.size;
  }

  private get half(): number {
    return Math.max(1, Math.floor(this.max / 2));
  }

  /** The entry (moved to the young generation); undefined when there is none. */
  get(key: string, nowMs: number): Entry | undefined {
    const e = this.young.get(key);
    if (e !== undefined) return e;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.put(key, o, nowMs);
    }
    return o;
  }

  getOrCreate(key: string, nowMs: number): Entry {
    const e = this.get(key, nowMs);
    if (e !== undefined) return e;
    const fresh: Entry = { failures: 0, lastFailureMs: 0, lockedUntilMs: 0, goodUntilMs: 0, recent: [0, 0, 0, 0], recentNext: 0 };
    this.put(key, fresh, nowMs);
    return fresh;
  }

  private put(key: string, e: Entry, nowMs: number): void {
    if (this.young.size >= this.half) this.rotate(nowMs);
    this.young.set(key, e);
  }

  private rotate(nowMs: number): void {
    const dropped = this.old;
    this.old = this.young;
    this.young = new Map();
    let room = Math.floor(this.half / 2);
    for (const [key, e] of dropped) {
      if (room === 0) break;
      if (e.lockedUntilMs > nowMs || e.goodUntilMs > nowMs) {
        this.young.set(key, e);
        room--;
      }
    }
  }

  /** Every entry (for the admin's view of the state). */
  *entries(): IterableIterator<[string, Entry]> {
    yield* this.old;
    yield* this.young;
  }
}
