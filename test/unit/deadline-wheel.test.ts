// The worker's one deadline structure (src/worker/deadline-wheel.ts) and the store-call bound
// built on it (src/worker/deadline.ts): every wait still ends by its deadline, and a wait costs
// no Node timer nor AbortController of its own.
import { DeadlineWheel, SLOT_MS } from '../../src/worker/deadline-wheel';
import { withDeadline } from '../../src/worker/deadline';
import { StoreUnavailableError } from '../../src/stores/store';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('DeadlineWheel', () => {
  test('fires each entry at its time, in order, and never a cancelled one', async () => {
    const wheel = new DeadlineWheel();
    const fired: string[] = [];
    const t0 = performance.now();
    const firedAt = new Map<string, number>();
    const add = (name: string, ms: number) => wheel.add(t0 + ms, () => { fired.push(name); firedAt.set(name, performance.now() - t0); });
    add('c', 60);
    add('a', 20);
    const gone = add('x', 30);
    add('b', 40);
    add('d', 80);
    wheel.cancel(gone);
    wheel.cancel(gone);
    expect(wheel.size).toBe(4);
    await sleep(150);
    expect(fired).toEqual(['a', 'b', 'c', 'd']);
    for (const [name, ms] of [['a', 20], ['b', 40], ['c', 60], ['d', 80]] as const) expect(firedAt.get(name)).toBeGreaterThanOrEqual(ms - 1);
    expect(wheel.size).toBe(0);
  });

  test('an earlier deadline added after a later one re-arms the timer', async () => {
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    let at = -1;
    const later = wheel.add(t0 + 5000, () => {});
    const late = wheel.add(t0 + 6000, () => {});
    wheel.add(t0 + 30, () => { at = performance.now() - t0; });
    await sleep(120);
    expect(at).toBeGreaterThanOrEqual(29);
    expect(at).toBeLessThan(5000);
    // The rest leave without firing; the heap is empty and keeps nothing alive.
    wheel.cancel(late);
    expect(wheel.size).toBe(1);
    wheel.cancel(later);
    expect(wheel.size).toBe(0);
  });

  test('removal from anywhere keeps the heap ordered', async () => {
    const wheel = new DeadlineWheel();
    const t0 = performance.now();
    const order: number[] = [];
    const entries = Array.from({ length: 200 }, (_, k) => {
      const ms = 10 + ((k * 37) % 200) / 4;
      return { ms, e: wheel.add(t0 + ms, () => order.push(ms)) };
    });
    const kept = entries.filter((_, k) => k % 3 !== 0);
    for (const [k, x] of entries.entries()) if (k % 3 === 0) wheel.cancel(x.e);
    await sleep(120);
    expect(order).toEqual(kept.map((x) => x.ms).sort((a, b) => a - b));
  });

  test('calls of one slot share one AbortSignal, aborted only after their deadlines', async () => {
    const wheel = new DeadlineWheel();
    const at = Math.ceil((performance.now() + 20) / SLOT_MS) * SLOT_MS - 1;
    const a = wheel.signalBy(at);
    const b = wheel.signalBy(at - 5);
    expect(b).toBe(a);
    expect(wheel.signalBy(at + SLOT_MS)).not.toBe(a);
    while (performance.now() < at) {
      expect(a.aborted).toBe(false);
      await sleep(2);
    }
    await sleep(SLOT_MS + 20);
    expect(a.aborted).toBe(true);
  });
});

describe('withDeadline', () => {
  test('a call that does not answer is refused by its deadline, and its signal then aborts', async () => {
    let seen: AbortSignal | undefined;
    const t0 = performance.now();
    const err = await withDeadline(40, (signal) => { seen = signal; return new Promise<never>(() => {}); }).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toBe('no answer within 40 ms');
    expect(took).toBeGreaterThanOrEqual(39);
    await sleep(SLOT_MS + 10);
    expect(seen?.aborted).toBe(true);
  });

  test('an answer, or a store error, comes through as it is', async () => {
    await expect(withDeadline(1000, async () => 'yes')).resolves.toBe('yes');
    await expect(withDeadline(1000, async () => { throw new Error('broken'); })).rejects.toThrow('broken');
    await expect(withDeadline(1000, () => { throw new Error('at once'); })).rejects.toThrow('at once');
  });

  test('many calls at once cost no Node timer and no AbortController each', async () => {
    const timers = jest.spyOn(global, 'setTimeout');
    const signals = new Set<AbortSignal>();
    try {
      await Promise.all(Array.from({ length: 500 }, () => withDeadline(5000, async (signal) => { signals.add(signal); return 1; })));
      expect(timers.mock.calls.length).toBeLessThanOrEqual(2);
      expect(signals.size).toBeLessThanOrEqual(2);
    } finally {
      timers.mockRestore();
    }
  });
});

test('a store call done leaves nothing that keeps a process (the CLI) alive', () => {
  const { execFileSync } = require('child_process') as typeof import('child_process');
  const script = `require(${JSON.stringify(require.resolve('../../src/worker/deadline'))}).withDeadline(5000, async () => 1).then(() => { globalThis.t0 = Date.now(); });`
    + 'process.on("exit", () => process.stdout.write(String(Date.now() - globalThis.t0)));';
  const ms = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 }));
  expect(ms).toBeLessThan(1000);
});
