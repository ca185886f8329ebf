// What one {CRYPT} check costs the worker: node dist/bench/crypt-cost.js [N]. For a yescrypt
// ($y$, Debian's default) and a SHA-512-crypt ($6$) value: milliseconds per check one after
// another, checks per second with 8 at once, and how long a check holds the event loop (the
// time until verifyCrypt returns its promise): a held loop delays every other login in the worker.
import { execFileSync } from 'child_process';
import { verifyCrypt } from '../src/stores/crypt';
import { median } from './median';

const N = Number(process.argv[2] ?? 40);
const PASSWORD = Buffer.from('bench-password-1');

function systemHash(setting: string): string {
  return execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', PASSWORD.toString(), setting]).toString('latin1');
}

async function measure(name: string, stored: string): Promise<void> {
  const signal = new AbortController().signal;
  if (!(await verifyCrypt(stored, PASSWORD, signal))) throw new Error(`${name}: the right password was refused`);
  const held: number[] = [];
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const start = process.hrtime.bigint();
    const p = verifyCrypt(stored, PASSWORD, signal);
    held.push(Number(process.hrtime.bigint() - start) / 1e6);
    await p;
  }
  const seqMs = Number(process.hrtime.bigint() - t) / 1e6 / N;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i += 8) await Promise.all(Array.from({ length: 8 }, () => verifyCrypt(stored, PASSWORD, signal)));
  const perSec = (Math.ceil(N / 8) * 8) / (Number(process.hrtime.bigint() - t) / 1e9);
  console.log(`${name.padEnd(10)} ${seqMs.toFixed(2).padStart(8)} ms/check   ${perSec.toFixed(0).padStart(6)} checks/s (8 at once)   event loop held ${median(held).toFixed(3)} ms a check (median)`);
}

async function main(): Promise<void> {
  await measure('$y$ j9T', systemHash('$y$j9T$abcdefghijklmnop'));
  await measure('$6$ 5000', systemHash('$6$saltsaltsalt'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
