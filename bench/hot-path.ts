// What the throttle and the accounting log cost on the hot path: the file store (the cheapest,
// so their share shows most) at one user count, with the throttle off and no accounting log,
// with the default throttle, and with the throttle and an accounting log, side by side in the
// same run, the three alternating for a few rounds so that the machine's drift touches all.
// The load is the benchmark's usual one (every wrong-every-th transaction with a wrong password,
// no client address, so the throttle counts per name and name-and-address).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { runLoad, LoadResult } from './pam-load';
import { WARMUP_SECONDS } from './options';
import { Snapshot } from './snapshot';
import { MapiStack, Servers } from './stacks';
import { median } from './median';

export const HOT_ROUNDS = 3;
export const HOT_VARIANTS = ['throttle off, no accounting log', 'throttle on (default)', 'throttle on + accounting log'] as const;
export type HotVariant = (typeof HOT_VARIANTS)[number];

export interface HotPathPoint {
  variant: HotVariant;
  users: number;
  clients: number;
  round: number;
  load: LoadResult;
}

function extra(variant: HotVariant, logDir: string): { sections: string; worker: string } {
  switch (variant) {
    case 'throttle off, no accounting log': return { sections: '[throttle]\nenabled = no\n', worker: '' };
    case 'throttle on (default)': return { sections: '[throttle]\n', worker: '' };
    default: return { sections: '[throttle]\n', worker: `accounting_log = ${path.join(logDir, 'accounting.log')}\n` };
  }
}

export async function hotPath(s: Servers, build: Snapshot, users: number, clients: readonly number[], seconds: number, wrongEvery: number,
  log: (s: string) => void): Promise<HotPathPoint[]> {
  log(`\n== the throttle and the accounting log on the hot path: file store, ${users} users, clients ${clients.join(', ')}, ${HOT_ROUNDS} rounds`);
  const stacks = new Map<HotVariant, MapiStack>();
  // The bench's private temporary directory (TMPDIR), removed with it.
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accounting-'));
  try {
    for (const v of HOT_VARIANTS) {
      const stack = new MapiStack('mapi_file', s, 1, build, undefined, extra(v, logDir));
      stack.writeUsers(users);
      stacks.set(v, stack);
    }
    const out: HotPathPoint[] = [];
    for (const [, stack] of stacks) {
      await stack.restart();
      await runLoad({ confDir: stack.target.confDir, service: stack.target.service, users, clients: 1, seconds: WARMUP_SECONDS, wrongEvery });
    }
    for (let round = 1; round <= HOT_ROUNDS; round++) {
      for (const c of clients) {
        // Each round starts with another variant, so none is always first after a pause.
        const order = [...stacks];
        for (const [variant, stack] of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
          const load = await runLoad({ confDir: stack.target.confDir, service: stack.target.service, users, clients: c, seconds, wrongEvery });
          out.push({ variant, users, clients: c, round, load });
          log(`  round ${round}, ${String(c).padStart(2)} clients, ${variant.padEnd(32)}: ${load.authsPerS.toFixed(0)}/s  p50 ${load.p50} µs  p99 ${load.p99} µs  wrong answers ${load.wrongAnswers}`);
        }
      }
    }
    return out;
  } finally {
    for (const stack of stacks.values()) await stack.cleanup();
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

/** The medians over the rounds of one variant at one client count. */
export function hotMedian(points: readonly HotPathPoint[], variant: HotVariant, clients: number): { authsPerS: number; p50: number; p99: number; wrong: number } | undefined {
  const at = points.filter((p) => p.variant === variant && p.clients === clients);
  if (at.length === 0) return undefined;
  return {
    authsPerS: median(at.map((p) => p.load.authsPerS)),
    p50: median(at.map((p) => p.load.p50)),
    p99: median(at.map((p) => p.load.p99)),
    wrong: at.reduce((n, p) => n + p.load.wrongAnswers, 0),
  };
}
