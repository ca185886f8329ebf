// The memory soak: a fixed number of requests through one worker, its RSS read after every step.
// A transaction with the right password makes two requests (auth, account), one with a wrong
// password one (auth fails, no account step); each step is 90% right and 10% wrong requests.
import { memory } from './proc-stats';
import { LoadResult, runLoad } from './pam-load';
import { MapiStack } from './stacks';

const THREADS = 10;

export interface SoakPoint {
  requests: number;
  rssKb: number;
  anonKb: number;
}

export interface SoakResult {
  module: string;
  users: number;
  points: SoakPoint[];
  transactions: number;
  wrongAnswers: number;
  seconds: number;
}

export async function soak(stack: MapiStack, users: number, total: number, step: number, log: (s: string) => void): Promise<SoakResult> {
  const worker = await stack.restart();
  const wrong = Math.round(step / 10 / THREADS) * THREADS;
  const right = Math.round((step - wrong) / 2 / THREADS) * THREADS;
  const perStep = 2 * right + wrong;
  const spec = { confDir: stack.target.confDir, service: stack.target.service, users, clients: THREADS };
  const points: SoakPoint[] = [{ requests: 0, ...memory(worker.pid) }];
  let transactions = 0;
  let wrongAnswers = 0;
  const t0 = Date.now();
  for (let done = 0; done + perStep <= total;) {
    const parts: LoadResult[] = [
      await runLoad({ ...spec, count: right / THREADS, wrongEvery: 0 }),
      await runLoad({ ...spec, count: wrong / THREADS, wrongEvery: 1 }),
    ];
    done += perStep;
    for (const p of parts) {
      transactions += p.transactions;
      wrongAnswers += p.wrongAnswers;
    }
    points.push({ requests: done, ...memory(worker.pid) });
    log(`  soak ${stack.module}: ${done} requests, RSS ${(points[points.length - 1].rssKb / 1024).toFixed(1)} MB`);
  }
  const result = { module: stack.module, users, points, transactions, wrongAnswers, seconds: (Date.now() - t0) / 1000 };
  await stack.stop();
  return result;
}
