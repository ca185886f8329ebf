// CPU µs per transaction by process over one point: each process's utime + stime delta from
// /proc/<pid>/stat, divided by the transactions of the point, and the load generator's own
// (pam_load with libpam and the module in it, from its rusage once it is waited for).
import type { CpuMeter } from './proc-stats';

export interface Proc {
  name: string;
  pid: number;
}

export interface CpuPerTx {
  /** worker, node floor, mariadbd, slapd, nslcd, sssd, sssd_be, sssd_pam, ..., client. */
  process: string;
  us: number;
}

/** `procs` in the order the meter was given them. USER_HZ is 100: a 3 s point resolves to
 * 10 ms of CPU, a few µs per transaction at the rates measured here. */
export function perTransaction(procs: readonly Proc[], cpu: ReturnType<CpuMeter['stop']>, transactions: number): CpuPerTx[] {
  const per = (s: number): number => (transactions > 0 ? (s * 1e6) / transactions : 0);
  return [...procs.map((p, i) => ({ process: p.name, us: per(cpu.processSeconds[i]) })), { process: 'client', us: per(cpu.clientSeconds) }];
}
