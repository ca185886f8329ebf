// Every deadline of the worker (a frame the module owes, a store call, the close grace) in one
// structure: a min-heap by time, each entry knowing its place so it leaves in O(log n) when
// its wait ends first (the usual case), and one Node timer armed for the earliest. A Node timer
// per wait cost more than the wait: a Timeout object, its async id and list insertion on every
// frame, and an AbortController per store call. Store calls share one AbortSignal per slot of
// SLOT_MS, aborted when the slot's last deadline has passed: the caller is answered at its own
// deadline by its own entry; the signal only tells the store to stop working, at most SLOT_MS
// after that.
import { setMaxListeners } from 'events';

/** A deadline in the heap; `index` is its place there, -1 once it fired or was cancelled. */
export class DeadlineEntry {
  index = -1;

  constructor(
    /** performance.now() time. */
    readonly at: number,
    readonly fire: () => void,
    /** Whether it keeps the process alive (a shared signal's abort does not). */
    readonly holds: boolean,
  ) {}
}

/** The width of a shared store signal's slot. */
export const SLOT_MS = 50;

export class DeadlineWheel {
  private readonly heap: DeadlineEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time); Infinity when none is armed. */
  private armedAt = Infinity;
  /** The shared controller of each slot with a store call waiting, until the slot ends. */
  private readonly slots = new Map<number, AbortController>();
  /** Entries that keep the process alive: the timer is unref'd while there are none. */
  private holding = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get size(): number {
    return this.heap.length;
  }

  /** Calls fire at `at` (performance.now() time) unless cancel(entry) comes first. */
  add(at: number, fire: () => void, holds = true): DeadlineEntry {
    const e = new DeadlineEntry(at, fire, holds);
    e.index = this.heap.length;
    this.heap.push(e);
    this.up(e.index);
    if (holds) this.holding++;
    if (at < this.armedAt) this.arm(at);
    else if (holds && this.holding === 1) this.timer?.ref();
    return e;
  }

  /** Takes the entry out; nothing happens if it fired or was cancelled already. */
  cancel(e: DeadlineEntry): void {
    const i = e.index;
    if (i < 0) return;
    e.index = -1;
    const last = this.heap.pop() as DeadlineEntry;
    if (last !== e) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    // Only a wait keeps the process alive (the CLI's store checks end when their work does);
    // the armed timer stays, and finds nothing to do when it fires.
    if (e.holds && --this.holding === 0) this.timer?.unref();
  }

  /** An AbortSignal aborted no earlier than `at`, shared by the calls whose deadline falls in
   * the same slot. */
  signalBy(at: number): AbortSignal {
    const slot = Math.ceil(at / SLOT_MS);
    let controller = this.slots.get(slot);
    if (controller === undefined) {
      const c = new AbortController();
      // Concurrent calls of one slot each listen on it: not a leak.
      setMaxListeners(0, c.signal);
      this.add(slot * SLOT_MS, () => { this.slots.delete(slot); c.abort(); }, false);
      this.slots.set(slot, c);
      controller = c;
    }
    return controller.signal;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - this.now()));
    if (this.holding === 0) this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const e = this.heap[0];
      this.cancel(e);
      e.fire();
    }
    if (this.heap.length > 0) this.arm(this.heap[0].at);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= e.at) break;
      h[i] = h[p];
      h[i].index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i];
    const n = h.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1].at < h[c].at) c++;
      if (h[c].at >= e.at) break;
      h[i] = h[c];
      h[i].index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}

/** The worker's one wheel. */
export const deadlines = new DeadlineWheel();
