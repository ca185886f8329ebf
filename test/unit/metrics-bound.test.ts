// store= is the module's argument, which an allowed peer writes as it likes: however many
// names it sends, the metrics keep a bounded number of series.
import { MAX_STORE_SERIES, Metrics, OTHER_STORES } from '../../src/worker/metrics';

test('store names beyond the bound share one series; the first ones keep theirs', () => {
  const m = new Metrics();
  m.record('authenticate', 'default', 'SUCCESS', 1);
  for (let i = 0; i < 10_000; i++) m.record('authenticate', `made-up-${i}`, 'AUTHINFO_UNAVAIL', 1);
  m.record('authenticate', 'default', 'SUCCESS', 1);
  const text = m.text();
  const stores = new Set([...text.matchAll(/pam_mapi_decision_seconds_count\{op="authenticate",store="([^"]*)"\}/g)].map((x) => x[1]));
  expect(stores.size).toBe(MAX_STORE_SERIES + 1);
  expect(stores.has(OTHER_STORES)).toBe(true);
  expect(text).toContain('pam_mapi_decisions_total{op="authenticate",store="default",class="success"} 2');
  expect(text.split('\n').filter((l) => l.startsWith('pam_mapi_store_up')).length).toBe(MAX_STORE_SERIES + 1);
});
