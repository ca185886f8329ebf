// The cross-check: the benchmark's own load generator (pam_load, as the main points run it) and
// an outside-style harness (bench/harness/pam-threads.c, right passwords only) on the same
// stacks, same users and same workers, alternating in rounds, the medians side by side. If the
// two disagree by more than AGREE (20%), the report says so for that row.
import { CpuPerTx, perTransaction, Proc } from './cpu-per-tx';
import { runHarness } from './harness';
import { CpuMeter } from './proc-stats';
import { runLoad } from './pam-load';
import { Target } from './stacks';
import { ModuleName } from './options';
import { median } from './median';

export const CROSS_ROUNDS = 3;
/** Most one median may differ from the other, relative to the harness's, and still agree. */
export const AGREE = 0.2;

/** pam_load as the main points run it; pam_load with right passwords only (the harness's work,
 * to tell a difference of the tools from one of the wrong passwords); the outside-style harness. */
export const CROSS_TOOLS = ['pam_load', 'pam_load, right passwords only', 'pam-threads'] as const;
export type CrossTool = (typeof CROSS_TOOLS)[number];

export interface CrossPoint {
  module: ModuleName;
  users: number;
  clients: number;
  round: number;
  tool: CrossTool;
  authsPerS: number;
  p50: number;
  p99: number;
  transactions: number;
  /** Right passwords refused, or wrong ones accepted. */
  wrongAnswers: number;
  cpuPerTx: CpuPerTx[];
}

export interface CrossSpec {
  targets: Target[];
  harness: string;
  users: number;
  clients: number[];
  seconds: number;
  wrongEvery: number;
  tools: readonly CrossTool[];
  /** The processes whose CPU per transaction is measured (worker, servers). */
  procsOf: (m: ModuleName) => Proc[];
}

export async function crossCheck(s: CrossSpec, log: (s: string) => void): Promise<CrossPoint[]> {
  log(`\n== cross-check: ${s.tools.join(' / ')}, ${s.users} users, clients ${s.clients.join(', ')}, ${CROSS_ROUNDS} rounds of ${s.seconds} s`);
  const out: CrossPoint[] = [];
  for (let round = 1; round <= CROSS_ROUNDS; round++) {
    for (const clients of s.clients) {
      for (const t of s.targets) {
        // Each round starts with another tool, so that neither always runs first.
        const tools = s.tools.map((_, i) => s.tools[(i + round - 1) % s.tools.length]);
        for (const tool of tools) {
          const base = { module: t.module, users: s.users, clients, round, tool };
          const procs = s.procsOf(t.module);
          const meter = new CpuMeter(procs.map((p) => p.pid), []);
          if (tool === 'pam-threads') {
            const h = await runHarness(s.harness, t, s.users, clients, s.seconds);
            const cpuPerTx = perTransaction(procs, meter.stop(), h.transactions);
            out.push({ ...base, authsPerS: h.authsPerS, p50: h.p50, p99: h.p99, transactions: h.transactions, wrongAnswers: h.failed, cpuPerTx });
          } else {
            const wrongEvery = tool === 'pam_load' && t.checksPassword ? s.wrongEvery : 0;
            const l = await runLoad({ confDir: t.confDir, service: t.service, users: s.users, clients, seconds: s.seconds, wrongEvery, processes: t.processes, prefix: t.prefix });
            const cpuPerTx = perTransaction(procs, meter.stop(), l.transactions);
            out.push({ ...base, authsPerS: l.authsPerS, p50: l.p50, p99: l.p99, transactions: l.transactions, wrongAnswers: l.wrongAnswers, cpuPerTx });
          }
          const p = out[out.length - 1];
          log(`  round ${round} ${t.module.padEnd(12)} ${String(clients).padStart(2)} clients ${tool.padEnd(30)} ${p.authsPerS.toFixed(0).padStart(6)} auths/s  p50 ${p.p50} µs  wrong answers ${p.wrongAnswers}`
            + `  CPU µs/tx ${p.cpuPerTx.map((c) => `${c.process} ${c.us.toFixed(0)}`).join(', ')}`);
        }
      }
    }
  }
  return out;
}

/** The median auths/s and p50 over the rounds of one tool on one module at one client count. */
export function crossMedian(points: readonly CrossPoint[], module: ModuleName, clients: number, tool: CrossTool): { authsPerS: number; p50: number } | undefined {
  const at = points.filter((p) => p.module === module && p.clients === clients && p.tool === tool);
  if (at.length === 0) return undefined;
  return { authsPerS: median(at.map((p) => p.authsPerS)), p50: median(at.map((p) => p.p50)) };
}
