// What one benchmark run found, as written to results.json and read by the report and chart.
import type { Facts } from './machine';
import type { DbWork } from './mariadb-status';
import type { BenchOptions, ModuleName } from './options';
import type { MissCostPoint } from './miss-cost';
import type { HotPathPoint } from './hot-path';
import type { CrossPoint } from './cross-check';
import type { CpuPerTx } from './cpu-per-tx';
import type { LoadResult } from './pam-load';
import type { PkLookup } from './pk-lookup';
import type { ScalingPoint } from './scaling';
import type { SoakResult } from './soak';
import type { SyslogCounts } from './syslog';

export interface Point {
  users: number;
  module: ModuleName;
  clients: number;
  load: LoadResult;
  /** Percent of one core over the point; the worker for pam_mapi, else null. */
  workerCpu: number | null;
  /** Percent of one core: mariadbd, slapd (+ nslcd), krb5kdc, or null for none. */
  serverCpu: number | null;
  /** Percent of one core: pam_load's processes (libpam and the module), from this process's
   * waited-for children; absent in older runs. */
  clientCpu?: number;
  /** Percent of all cores, everything on the machine. */
  machineCpu: number;
  /** Percent of all cores used by processes that are not the benchmark's (others' work). */
  othersCpu: number;
  /** MariaDB's work per transaction (zarafa, pam_mysql), else null. */
  db: DbWork | null;
  /** CPU µs per transaction by process (cpu-per-tx.ts); absent in older runs. */
  cpuPerTx?: CpuPerTx[];
}

export interface WorkerAfter {
  module: ModuleName;
  rssKb: number;
  hwmKb: number;
  anonKb: number;
  logBytes: number;
  /** Log lines at warning level or worse, and the first few of them. */
  problems: number;
  sample: string[];
}

export interface UserLevel {
  users: number;
  /** Seconds to add this level's new users: MariaDB (both schemas), slapd (slapadd), users file,
   * and the KDC's principals (kadmin.local, at the first level only: bench/krb5.ts). */
  fill: { mysql: number; ldap: number; file: number; krb5?: number };
  pk: PkLookup | null;
  workers: WorkerAfter[];
}

export interface Results {
  options: BenchOptions;
  facts: Facts;
  levels: UserLevel[];
  points: Point[];
  /** zarafa at every user count side by side (scaling.ts). */
  scaling: ScalingPoint[];
  /** zarafa: unknown names against known names with a wrong password (miss-cost.ts); absent in older runs. */
  missCost?: MissCostPoint[];
  /** The throttle and the accounting log, with and without (hot-path.ts); absent in older runs. */
  hotPath?: HotPathPoint[];
  /** The cross-check against the outside-style harness (cross-check.ts); absent in older runs. */
  crossCheck?: CrossPoint[];
  soak: SoakResult[];
  /** Syslog messages the run's modules sent, by module (null: not counted). */
  syslog: SyslogCounts | null;
  wallSeconds: number;
}

export function pointOf(r: Results, module: ModuleName, users: number, clients: number): Point | undefined {
  return r.points.find((p) => p.module === module && p.users === users && p.clients === clients);
}
