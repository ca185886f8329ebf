// The zarafa store at every user count side by side: one database and one worker per count,
// measured in alternation for a few rounds, so that "how much slower with 100 times the users"
// compares minutes alike (the levels of the main run are minutes apart, and a busy machine
// moves every figure, pam_permit's too).
import { kopanoSubset, KOPANO_DB } from './mysql-fill';
import { LoadResult, runLoad } from './pam-load';
import { WARMUP_SECONDS } from './options';
import { Point } from './results';
import { Snapshot } from './snapshot';
import { MapiStack, Servers, Target } from './stacks';
import { BenchWorker } from './worker';

export const SCALING_ROUNDS = 3;

export interface ScalingPoint {
  users: number;
  round: number;
  load: LoadResult;
  workerCpu: number | null;
  serverCpu: number | null;
}

export type Measure = (t: Target, users: number, clients: number, worker: BenchWorker) => Promise<Point>;

/** Runs `body` with one zarafa database and worker per user count (users ascending, the
 * largest being what KOPANO_DB holds now), each warmed up (which also lets the worker read its
 * login index) with `clients` clients; cleans them all up afterwards. */
export async function withZarafaStacks<T>(s: Servers, build: Snapshot, users: number[], clients: number, poolSize: number,
  body: (stacks: Array<[number, MapiStack]>) => Promise<T>): Promise<T> {
  const most = Math.max(...users);
  const stacks: Array<[number, MapiStack]> = [];
  try {
    for (const n of users) stacks.push([n, new MapiStack('mapi_zarafa', s, poolSize, build, n === most ? KOPANO_DB : await kopanoSubset(s.db, n))]);
    for (const [n, stack] of stacks) {
      await stack.restart();
      await runLoad({ confDir: stack.target.confDir, service: stack.target.service, users: n, clients, seconds: WARMUP_SECONDS, wrongEvery: 0 });
    }
    return await body(stacks);
  } finally {
    for (const [, stack] of stacks) await stack.cleanup();
  }
}

/** users: ascending, the largest being what KOPANO_DB holds now. */
export async function zarafaSideBySide(s: Servers, build: Snapshot, users: number[], clients: number, poolSize: number, measure: Measure,
  log: (s: string) => void): Promise<ScalingPoint[]> {
  log(`\n== zarafa at ${users.join(', ')} users side by side, ${clients} clients, ${SCALING_ROUNDS} rounds`);
  return withZarafaStacks(s, build, users, clients, poolSize, async (stacks) => {
    const out: ScalingPoint[] = [];
    for (let round = 1; round <= SCALING_ROUNDS; round++) {
      for (const [n, stack] of stacks) {
        const p = await measure(stack.target, n, clients, stack.worker!);
        out.push({ users: n, round, load: p.load, workerCpu: p.workerCpu, serverCpu: p.serverCpu });
      }
    }
    return out;
  });
}

/** The median auths/s and p99 of the rounds at one user count. */
export function scalingMedian(points: ScalingPoint[], users: number): { authsPerS: number; p99: number } | undefined {
  const at = points.filter((p) => p.users === users);
  if (at.length === 0) return undefined;
  const mid = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
  return { authsPerS: mid(at.map((p) => p.load.authsPerS)), p99: mid(at.map((p) => p.load.p99)) };
}
