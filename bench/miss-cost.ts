// What an unknown name costs the zarafa store against a known name with a wrong password: the
// two answers an attacker compares to learn which names exist, and the one a flood of random
// names makes the database do. At each user count, one database and worker, one client, the
// two kinds alternating for a few rounds; timing from pam_load, rows read from MariaDB's status
// counters. Every unknown name is fresh (never asked before), as an attacker's would be.
import { DbMeter } from './mariadb-status';
import { LoadResult, runLoad } from './pam-load';
import { withZarafaStacks } from './scaling';
import { Snapshot } from './snapshot';
import { Servers } from './stacks';
import { median } from './median';

export const MISS_ROUNDS = 3;
/** Names of nobody: pam_load appends a number; each round has its own prefix, so no name repeats. */
const GHOST_PREFIX = 'ghost';
/** More names than one client gets through in a point, so every name is asked once. */
const GHOSTS = 10_000_000;

export type MissKind = 'known' | 'unknown';

export interface MissCostPoint {
  users: number;
  round: number;
  /** known: a user of the store with a wrong password; unknown: a name nobody has. */
  kind: MissKind;
  load: LoadResult;
  /** MariaDB's rows read per request: by scans (Handler_read_rnd_next) and by index (read_next + read_key). */
  rowsScanned: number;
  rowsByIndex: number;
}

/** users: ascending, the largest being what KOPANO_DB holds now. */
export async function missCost(s: Servers, build: Snapshot, users: number[], poolSize: number, seconds: number,
  log: (s: string) => void): Promise<MissCostPoint[]> {
  log(`\n== zarafa: unknown name against known name with a wrong password, at ${users.join(', ')} users, 1 client, ${MISS_ROUNDS} rounds`);
  return withZarafaStacks(s, build, users, 1, poolSize, async (stacks) => {
    const out: MissCostPoint[] = [];
    for (let round = 1; round <= MISS_ROUNDS; round++) {
      for (const [n, stack] of stacks) {
        for (const kind of ['known', 'unknown'] as const) {
          const meter = await DbMeter.start(s.db);
          const load = await runLoad({
            confDir: stack.target.confDir, service: stack.target.service, clients: 1, seconds, wrongEvery: 1,
            ...(kind === 'known' ? { users: n } : { users: GHOSTS, userPrefix: `${GHOST_PREFIX}${round}-` }),
          });
          const db = await meter.stop(load.transactions);
          out.push({ users: n, round, kind, load, rowsScanned: db.rowsScanned, rowsByIndex: db.rowsByIndex });
          log(`  ${String(n).padStart(6)} users, round ${round}, ${kind.padEnd(7)}: p50 ${load.p50} µs  p90 ${load.p90} µs  ${load.transactions} requests,`
            + ` rows read/request: ${db.rowsScanned.toFixed(1)} by scan, ${db.rowsByIndex.toFixed(1)} by index  wrong answers ${load.wrongAnswers}`);
        }
      }
    }
    return out;
  });
}

/** The medians over the rounds of one kind at one user count. */
export function missMedian(points: readonly MissCostPoint[], users: number, kind: MissKind): { p50: number; rowsRead: number; rowsScanned: number } | undefined {
  const at = points.filter((p) => p.users === users && p.kind === kind);
  if (at.length === 0) return undefined;
  return {
    p50: median(at.map((p) => p.load.p50)),
    rowsRead: median(at.map((p) => p.rowsScanned + p.rowsByIndex)),
    rowsScanned: median(at.map((p) => p.rowsScanned)),
  };
}
