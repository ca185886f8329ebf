// A process's memory and CPU time, and the machine's CPU time, read from /proc.
import fs from 'fs';

/** Clock ticks per second for /proc/PID/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

export interface Memory {
  rssKb: number;
  /** Peak RSS (VmHWM). */
  hwmKb: number;
  /** The private part of RSS: a worker's RSS also counts ~40 MB of the node binary's pages. */
  anonKb: number;
}

export function memory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), anonKb: kb('RssAnon') };
}

/** User + system CPU seconds the process has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count the fields after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU seconds (all cores) from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.split(/\s+/).slice(1).map(Number);
  const idle = v[3] + v[4];
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** CPU seconds of this process and of its children that have been waited for (pam_load runs). */
function ownCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS; // utime stime cutime cstime
}

/** CPU seconds of this process's children that have been waited for: the pam_load runs. */
function childrenCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / TICKS; // cutime cstime
}

/** CPU use over an interval: of some processes (percent of one core), of the machine (percent
 * of all cores), and of the machine less this benchmark's own processes (`pids` and `ours`, this
 * process and its finished children): the load others put on the machine meanwhile. */
export class CpuMeter {
  private readonly start: number[];
  private readonly oursStart: number;
  private readonly childrenStart = childrenCpuSeconds();
  private readonly machineStart = machineCpu();
  private readonly t0 = process.hrtime.bigint();

  constructor(
    private readonly pids: number[],
    private readonly ours: number[],
  ) {
    this.start = pids.map(cpuSeconds);
    this.oursStart = this.oursNow();
  }

  private oursNow(): number {
    return ownCpuSeconds() + this.ours.filter((p) => !this.pids.includes(p)).reduce((a, p) => a + cpuSeconds(p), 0);
  }

  /** childrenPercent: the children that ended in the interval (pam_load: libpam and the module
   * under test, which for pam_krb5 is where the Kerberos work is done); clientSeconds: the same
   * as CPU seconds. */
  stop(): { processPercent: number[]; processSeconds: number[]; machinePercent: number; othersPercent: number; childrenPercent: number; clientSeconds: number } {
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const children = childrenCpuSeconds() - this.childrenStart;
    const m = machineCpu();
    const used = this.pids.map((p, i) => cpuSeconds(p) - this.start[i]);
    const ours = this.oursNow() - this.oursStart + used.reduce((a, b) => a + b, 0);
    const total = Math.max(1e-9, m.total - this.machineStart.total);
    const busy = m.busy - this.machineStart.busy;
    return {
      processPercent: used.map((u) => (100 * u) / wall),
      processSeconds: used,
      machinePercent: (100 * busy) / total,
      othersPercent: Math.max(0, (100 * (busy - ours)) / total),
      childrenPercent: (100 * children) / wall,
      clientSeconds: children,
    };
  }
}
