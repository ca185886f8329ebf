// The outside-style harness (bench/harness/pam-threads.c): built here with the system's gcc, as
// someone checking our figures would build theirs, and run like pam_load (same services, same
// users), but its own code: right passwords only, no fail-delay hook, percentiles over all workers.
import { execFileSync } from 'child_process';
import path from 'path';
import { REPO_ROOT } from '../src/sandbox/sandbox';
import { USER_PREFIX } from './pam-load';
import { Target } from './stacks';
import { summaryLine } from './summary-line';

const SOURCE = path.join(REPO_ROOT, 'bench/harness/pam-threads.c');

export interface HarnessResult {
  transactions: number;
  failed: number;
  authsPerS: number;
  p50: number;
  p99: number;
}

/** Compiles the harness into dir; returns the binary's path. */
export function buildHarness(dir: string): string {
  const out = path.join(dir, 'pam-threads');
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-std=gnu11', '-pthread', '-o', out, SOURCE, '-lpam', '-lpthread'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return out;
}

export function parseHarnessLine(line: string): HarnessResult {
  const kv = new Map(line.trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  const n = (k: string): number => {
    const v = Number(kv.get(k));
    if (!Number.isFinite(v)) throw new Error(`pam-threads said no ${k}: ${line}`);
    return v;
  };
  return { transactions: n('transactions'), failed: n('failed'), authsPerS: n('auths_per_s'), p50: n('p50_us'), p99: n('p99_us') };
}

/** One run of the harness against a target for `seconds` with `clients` workers. */
export function runHarness(binary: string, t: Target, users: number, clients: number, seconds: number): Promise<HarnessResult> {
  const args = ['-d', t.confDir, '-s', t.service, '-U', USER_PREFIX, '-N', String(users), '-t', String(clients), '-S', String(seconds),
    ...(t.processes ? ['-f'] : [])];
  return summaryLine(`pam-threads ${t.service} -t ${clients}`, [...(t.prefix ?? []), binary, ...args], 'workers=').then(parseHarnessLine);
}
