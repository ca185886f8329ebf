// The doctor's output: a table for people, JSON for monitoring, and the exit code
// (0 all OK, 1 any FAIL, 2 only WARNs).
import { Row } from './checks';

export function exitCode(rows: Row[]): number {
  if (rows.some((r) => r.status === 'FAIL')) return 1;
  if (rows.some((r) => r.status === 'WARN')) return 2;
  return 0;
}

export function table(rows: Row[]): string {
  const width = Math.max(5, ...rows.map((r) => r.check.length));
  const out: string[] = [`${'CHECK'.padEnd(width)}  STATUS  DETAIL`];
  for (const r of rows) {
    out.push(`${r.check.padEnd(width)}  ${r.status.padEnd(6)}  ${r.detail}`);
    if (r.fix !== undefined) out.push(`${''.padEnd(width)}          fix: ${r.fix}`);
  }
  const count = (s: string): number => rows.filter((r) => r.status === s).length;
  out.push('', `${count('OK')} OK, ${count('WARN')} WARN, ${count('FAIL')} FAIL`);
  return out.join('\n') + '\n';
}

export function json(rows: Row[]): string {
  const count = (s: string): number => rows.filter((r) => r.status === s).length;
  return JSON.stringify({ checks: rows, summary: { ok: count('OK'), warn: count('WARN'), fail: count('FAIL') }, exit: exitCode(rows) }, null, 2) + '\n';
}
