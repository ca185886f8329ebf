// Store calls with two store_timeout shares (a store with an offline cache and one without)
// interleave: each slot keeps its one AbortSignal however the calls alternate between slots.
import { DeadlineWheel, SLOT_MS } from '../../src/worker/deadline-wheel';

test('calls alternating between two slots reuse each slot\'s signal, one entry per slot', () => {
  const wheel = new DeadlineWheel();
  const at = performance.now() + 10_000;
  const first = wheel.signalBy(at);
  const other = wheel.signalBy(at + 5 * SLOT_MS);
  for (let i = 0; i < 100; i++) {
    expect(wheel.signalBy(at)).toBe(first);
    expect(wheel.signalBy(at + 5 * SLOT_MS)).toBe(other);
  }
  expect(wheel.size).toBe(2);
});
