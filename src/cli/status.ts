// pam-mapi status [--config FILE] [--socket PATH] [--prometheus]
// Reads the worker's metrics socket ([worker] metrics_socket) and prints them: with
// --prometheus as they are (the Prometheus text format, for node_exporter's textfile collector
// or a cron job), otherwise as one screen for a person. Exit 0 when the worker answered, 1 when
// it could not be read, 2 on a usage error.
import net from 'net';
import { DEFAULT_CONFIG_PATH, readConfig } from '../config/load';

interface StatusArgs {
  config: string;
  socket?: string;
  prometheus: boolean;
}

const MAX_TEXT = 4 * 1024 * 1024;

export function parseStatusArgs(args: string[]): StatusArgs | string {
  const out: StatusArgs = { config: DEFAULT_CONFIG_PATH, prometheus: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--prometheus') out.prometheus = true;
    else if (a === '--config' || a === '--socket') {
      const v = args[++i];
      if (v === undefined) return `${a} needs a value`;
      if (a === '--config') out.config = v;
      else out.socket = v;
    } else return `unknown argument ${a}`;
  }
  return out;
}

function fetchText(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sock = net.connect(socketPath);
    sock.setTimeout(5000, () => sock.destroy(new Error('no answer within 5 s')));
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_TEXT) sock.destroy(new Error('answer too large'));
      else chunks.push(d);
    });
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    sock.on('error', reject);
  });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d${h}h${m}m` : h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
}

/** The upper bound of the bucket holding quantile q of the authentications, in ms. */
function quantile(samples: Sample[], op: string, q: number): string {
  const buckets = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== 'pam_mapi_decision_seconds_bucket' || s.labels.op !== op) continue;
    buckets.set(s.labels.le, (buckets.get(s.labels.le) ?? 0) + s.value);
  }
  const total = buckets.get('+Inf') ?? 0;
  if (total === 0) return '-';
  const sorted = [...buckets].filter(([le]) => le !== '+Inf').sort((a, b) => Number(a[0]) - Number(b[0]));
  for (const [le, n] of sorted) if (n >= q * total) return `<= ${Number(le) * 1000} ms`;
  return `> ${Number(sorted[sorted.length - 1][0]) * 1000} ms`;
}

export function summary(text: string, nowMs: number): string {
  const samples = parseSamples(text);
  const one = (name: string, labels: Record<string, string> = {}): number | undefined => samples.find((s) => s.name === name
    && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const lines: string[] = [];
  const started = one('pam_mapi_start_time_seconds') ?? nowMs / 1000;
  const up = Math.max(1, nowMs / 1000 - started);
  lines.push(`worker: up ${duration(up)} (since ${new Date(started * 1000).toISOString()})`);
  for (const op of ['authenticate', 'account']) {
    const byClass = new Map<string, number>();
    for (const s of samples) if (s.name === 'pam_mapi_decisions_total' && s.labels.op === op) byClass.set(s.labels.class, (byClass.get(s.labels.class) ?? 0) + s.value);
    const total = [...byClass.values()].reduce((a, b) => a + b, 0);
    const classes = [...byClass].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
    lines.push(`${op}: ${total} (${(total / (up / 60)).toFixed(1)} per minute since start)${total > 0 ? `: ${classes}` : ''}`);
    if (total > 0) lines.push(`  latency: p50 ${quantile(samples, op, 0.5)}, p99 ${quantile(samples, op, 0.99)}`);
  }
  const stores = samples.filter((s) => s.name === 'pam_mapi_store_up').map((s) => `${s.labels.store} ${s.value === 1 ? 'up' : 'DOWN (its last answer was an error)'}`);
  lines.push(`stores: ${stores.length > 0 ? stores.join(', ') : 'no request yet'}`);
  const enabled = one('pam_mapi_throttle_enabled');
  if (enabled !== undefined) {
    const locked = (t: string): number => one('pam_mapi_throttle_locked', { table: t }) ?? 0;
    lines.push(`throttle: ${enabled === 1 ? 'on' : 'off'}; refused ${one('pam_mapi_throttle_refused_total') ?? 0}, delayed ${one('pam_mapi_throttle_delayed_total') ?? 0}, `
      + `failures counted ${one('pam_mapi_throttle_failures_total') ?? 0}, repeats not counted ${one('pam_mapi_throttle_repeats_total') ?? 0}`);
    lines.push(`  refused now: ${locked('addresses')} addresses, ${locked('users')} names (from unknown addresses), ${locked('pairs')} names from one address`);
  }
  return lines.join('\n') + '\n';
}

export async function statusCommand(args: string[]): Promise<number> {
  const parsed = parseStatusArgs(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`pam-mapi status: ${parsed}\nusage: pam-mapi status [--config FILE] [--socket PATH] [--prometheus]\n`);
    return 2;
  }
  let socketPath = parsed.socket;
  if (socketPath === undefined) {
    let configured: string | null;
    try {
      configured = readConfig(parsed.config, { optional: true, secretKeys: [] }).worker.metricsSocket;
    } catch (e) {
      process.stderr.write(`pam-mapi status: ${(e as Error).message}\n`);
      return 1;
    }
    if (configured === null) {
      process.stderr.write(`pam-mapi status: ${parsed.config} sets no metrics_socket in [worker]; the worker serves no numbers\n`);
      return 1;
    }
    socketPath = configured;
  }
  let text: string;
  try {
    text = await fetchText(socketPath);
  } catch (e) {
    process.stderr.write(`pam-mapi status: cannot read ${socketPath}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(parsed.prometheus ? text : summary(text, Date.now()));
  return 0;
}
