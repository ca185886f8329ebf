// The numbers an admin watches, in the Prometheus text format (version 0.0.4): decisions by
// operation, store and outcome class, their latency as histograms per store, the throttle's
// counts and table sizes, and whether each store's last answer was an error. Served on a Unix
// socket of mode 0600 ([worker] metrics_socket, metrics-server.ts): the worker's user and root
// read it; `pam-mapi status` prints it.
import { ResultName } from '../protocol/constants';
import { Throttle } from './throttle';
import { OutcomeClass, outcomeClass } from './accounting';

/** Upper bounds in seconds: a cached login is well under 1 ms, a slow directory seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Distinct stores per operation with series of their own. store= comes from the module's
 * arguments, which a peer allowed to connect may write as it likes: without a bound, every new
 * name would keep a histogram for the worker's life. Beyond it, one series: OTHER_STORES. */
export const MAX_STORE_SERIES = 64;
export const OTHER_STORES = '(other)';

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** A label value as the format wants it: backslash, quote and newline escaped. */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  private readonly decisions = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly storeUp = new Map<string, number>();
  /** By operation, then store: the labels, the histogram and the decision keys by class. */
  private readonly series = new Map<string, Map<string, { labels: string; histogram: Histogram; keys: Map<OutcomeClass, string> }>>();
  readonly startedAt = Date.now();

  constructor(private readonly throttle?: Throttle) {}

  record(op: string, store: string, result: ResultName, ms: number): void {
    const cls: OutcomeClass = outcomeClass(result);
    // The label text of an operation and store is made once, not escaped on every request.
    let byStore = this.series.get(op);
    if (byStore !== undefined && byStore.size >= MAX_STORE_SERIES && !byStore.has(store)) store = OTHER_STORES;
    let series = byStore?.get(store);
    if (series === undefined) {
      const labels = `op="${label(op)}",store="${label(store)}"`;
      series = { labels, histogram: { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 }, keys: new Map() };
      this.latency.set(labels, series.histogram);
      if (byStore === undefined) this.series.set(op, byStore = new Map());
      byStore.set(store, series);
    }
    let key = series.keys.get(cls);
    if (key === undefined) series.keys.set(cls, key = `${series.labels},class="${cls}"`);
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
    const h = series.histogram;
    const s = ms / 1000;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (s <= LATENCY_BUCKETS[i]) h.counts[i]++;
    h.sum += s;
    h.count++;
    this.storeUp.set(store, result === 'AUTHINFO_UNAVAIL' ? 0 : 1);
  }

  /** The whole text, as a scrape gets it. */
  text(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family('pam_mapi_decisions_total', 'counter', 'Decisions by operation, store and outcome class (success, credentials, account, expired, disabled, policy, internal, conversation).');
    for (const [k, v] of this.decisions) out.push(`pam_mapi_decisions_total{${k}} ${v}`);
    family('pam_mapi_decision_seconds', 'histogram', 'Time from the request to the answer, by operation and store.');
    for (const [k, h] of this.latency) {
      LATENCY_BUCKETS.forEach((b, i) => out.push(`pam_mapi_decision_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`));
      out.push(`pam_mapi_decision_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`pam_mapi_decision_seconds_sum{${k}} ${h.sum}`);
      out.push(`pam_mapi_decision_seconds_count{${k}} ${h.count}`);
    }
    family('pam_mapi_store_up', 'gauge', 'Whether the last answer involving the store was not an error (1) or was one (0); absent before the first request.');
    for (const [store, up] of this.storeUp) out.push(`pam_mapi_store_up{store="${label(store)}"} ${up}`);
    if (this.throttle !== undefined) {
      const t = this.throttle.totals;
      family('pam_mapi_throttle_enabled', 'gauge', 'Whether the throttle counts failures ([throttle] enabled).');
      out.push(`pam_mapi_throttle_enabled ${this.throttle.enabled ? 1 : 0}`);
      family('pam_mapi_throttle_refused_total', 'counter', 'Attempts refused without checking the password (locks and the deny list).');
      out.push(`pam_mapi_throttle_refused_total ${t.refused}`);
      family('pam_mapi_throttle_delayed_total', 'counter', 'Failures answered with a longer fail delay.');
      out.push(`pam_mapi_throttle_delayed_total ${t.delayed}`);
      family('pam_mapi_throttle_failures_total', 'counter', 'Failures counted by the throttle.');
      out.push(`pam_mapi_throttle_failures_total ${t.counted}`);
      family('pam_mapi_throttle_repeats_total', 'counter', 'Repeated identical wrong passwords, not counted.');
      out.push(`pam_mapi_throttle_repeats_total ${t.repeats}`);
      family('pam_mapi_throttle_entries', 'gauge', 'Entries held by each throttle table.');
      for (const [table, n] of Object.entries(this.throttle.sizes())) out.push(`pam_mapi_throttle_entries{table="${table}"} ${n}`);
      family('pam_mapi_throttle_locked', 'gauge', 'Keys refused now, by table.');
      for (const [table, n] of Object.entries(this.throttle.lockedNow())) out.push(`pam_mapi_throttle_locked{table="${table}"} ${n}`);
    }
    family('pam_mapi_start_time_seconds', 'gauge', 'When the worker started, in seconds since the epoch.');
    out.push(`pam_mapi_start_time_seconds ${Math.floor(this.startedAt / 1000)}`);
    return out.join('\n') + '\n';
  }
}
