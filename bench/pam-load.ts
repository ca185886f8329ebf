// Runs build/Release/pam_load (native/tools/pam_load.c): whole PAM transactions from C threads,
// or from single-thread processes for modules that cannot share a process (pam_mysql 0.8.2), and
// reads its one-line answer.
import path from 'path';
import { REPO_ROOT } from '../src/sandbox/sandbox';
import { summaryLine } from './summary-line';
import { median } from './median';

export const PAM_LOAD = path.join(REPO_ROOT, 'build/Release/pam_load');
let binary = PAM_LOAD;

/** Runs this pam_load from now on (the run's snapshot of the build). */
export function usePamLoad(file: string): void {
  binary = file;
}
/** User k is PREFIX<k> with password pw-<k> (pam_load -U/-N). */
export const USER_PREFIX = 'user';

export interface LoadResult {
  clients: number;
  transactions: number;
  ok: number;
  failed: number;
  wrongAnswers: number;
  seconds: number;
  authsPerS: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadSpec {
  confDir: string;
  service: string;
  users: number;
  clients: number;
  /** Run for this long (-S) ... */
  seconds?: number;
  /** ... or this many transactions per client (-n). */
  count?: number;
  /** Every R-th transaction uses a wrong password (0: none; 1: all). */
  wrongEvery: number;
  /** One single-thread process per client instead of one process with threads. */
  processes?: boolean;
  /** A command that pam_load runs under, e.g. nsenter into a mount namespace. */
  prefix?: string[];
  /** The user names' prefix (pam_load -U), default USER_PREFIX: another one names nobody. */
  userPrefix?: string;
}

export function parseLine(line: string): LoadResult {
  const kv = new Map(line.trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  const n = (k: string): number => {
    const v = Number(kv.get(k));
    if (!Number.isFinite(v)) throw new Error(`pam_load said no ${k}: ${line}`);
    return v;
  };
  return {
    clients: n('threads'), transactions: n('transactions'), ok: n('ok'), failed: n('failed'), wrongAnswers: n('wrong_answers'),
    seconds: n('seconds'), authsPerS: n('auths_per_s'), p50: n('p50_us'), p90: n('p90_us'), p99: n('p99_us'), max: n('max_us'),
  };
}

function runOne(spec: LoadSpec, threads: number): Promise<LoadResult> {
  const args = ['-d', spec.confDir, '-s', spec.service, '-U', spec.userPrefix ?? USER_PREFIX, '-N', String(spec.users), '-t', String(threads),
    '-r', String(spec.wrongEvery), ...(spec.seconds !== undefined ? ['-S', String(spec.seconds)] : ['-n', String(spec.count ?? 100)])];
  return summaryLine(`pam_load ${spec.service} -t ${threads}`, [...(spec.prefix ?? []), binary, ...args], 'threads=').then(parseLine);
}

/** Sums counts and rates of processes that ran side by side. pam_load prints percentiles, not
 * samples: the percentiles given are the median of the processes' own (they are alike), max the
 * largest. */
export function aggregate(parts: LoadResult[]): LoadResult {
  const sum = (k: keyof LoadResult): number => parts.reduce((a, p) => a + p[k], 0);
  return {
    clients: parts.length, transactions: sum('transactions'), ok: sum('ok'), failed: sum('failed'), wrongAnswers: sum('wrongAnswers'),
    seconds: Math.max(...parts.map((p) => p.seconds)), authsPerS: sum('authsPerS'),
    p50: median(parts.map((p) => p.p50)), p90: median(parts.map((p) => p.p90)), p99: median(parts.map((p) => p.p99)),
    max: Math.max(...parts.map((p) => p.max)),
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (!spec.processes) return runOne(spec, spec.clients);
  return aggregate(await Promise.all(Array.from({ length: spec.clients }, () => runOne(spec, 1))));
}
