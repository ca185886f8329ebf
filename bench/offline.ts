// Measures the offline cache for the closing note of its work (not part of npm run bench):
// login latency while MariaDB hangs (SIGSTOP), with the cache on and off, against
// store_timeout; and the cost of one scrypt verifier. Run as root on a built tree:
//   UV_THREADPOOL_SIZE=16 node dist/bench/offline.js
// (libpam calls run on the client's libuv threads: with the default 4, 8 concurrent logins
// queue in the client and double what it measures.)
import crypto from 'crypto';
import { createKopanoDatabase, insertKopanoUser } from '../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../src/sandbox/mariadb';
import { Sandbox } from '../src/sandbox/sandbox';
import { SCRYPT } from '../src/worker/offline-cache';
import { pamRun } from '../test/helpers/pam';

const USERS = Array.from({ length: 16 }, (_, i) => ({ login: `user${i}`, password: `pw-${i}-offline` }));
const N = Number(process.env.N ?? 400);
const CONCURRENCY = 8;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The worker's own ms= for the requests of service since mark: its part of each login. */
function workerSide(output: string, mark: number, service: string): string {
  const ms = output.slice(mark).split('\n').filter((l) => l.includes(` request `) && l.includes(` service=${service} `))
    .map((l) => Number(/ ms=([0-9.]+)/.exec(l)?.[1] ?? 'NaN')).sort((a, b) => a - b);
  const offline = output.slice(mark).split('\n').filter((l) => l.includes(` service=${service} `) && l.includes('offline=yes')).length;
  return `worker side: p50 ${pct(ms, 50).toFixed(1)} ms, p99 ${pct(ms, 99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms, ${offline} offline=yes`;
}

async function run(box: Sandbox, service: string): Promise<{ p50: number; p99: number; max: number; results: Record<string, number> }> {
  const times: number[] = [];
  const results: Record<string, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const u = USERS[next++ % USERS.length];
      const t0 = performance.now();
      const r = await pamRun(box, service, u.login, [u.password]);
      times.push(performance.now() - t0);
      results[r.auth ?? 'none'] = (results[r.auth ?? 'none'] ?? 0) + 1;
    }
  }));
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99), max: times[times.length - 1], results };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const rounds = 40;
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve, reject) => crypto.scrypt(Buffer.from('a password'), crypto.randomBytes(16), 32, SCRYPT, (e) => (e ? reject(e) : resolve())));
  }
  const scryptMs = (performance.now() - t0) / rounds;
  console.log(`scrypt N=${SCRYPT.N} r=${SCRYPT.r} p=${SCRYPT.p}: ${scryptMs.toFixed(1)} ms per verifier (mean of ${rounds}, one at a time)`);

  const db = await PrivateMariaDB.start();
  const box = Sandbox.create();
  try {
    await createKopanoDatabase(db, 'kopano');
    for (const u of USERS) await insertKopanoUser(db, 'kopano', u);
    await db.createReader('kopano', 'pw', 'kopano');
    const section = (name: string, extra: string): string => `[store.${name}]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\n${extra}\n`;
    const config = box.writeConfig([
      section('on', `offline_cache = yes\noffline_cache_file = ${box.dir}/state/on.cache\n`),
      section('off', ''),
      section('breaker', 'circuit_breaker = yes\n'),
    ].join('\n'), 'store_timeout = 1\n');
    for (const s of ['on', 'off', 'breaker']) box.service(s, [`auth required {module} store=${s} nodelay ${box.workerArg}`]);
    const worker = await box.startWorker(config);
    // Online: the cache off, then on (its first pass makes every verifier, the second renews).
    for (const [s, what] of [['off', 'cache off'], ['on', 'cache on, first logins'], ['on', 'cache on, again']]) {
      const mark0 = worker.output.length;
      const online = await run(box, s);
      console.log(`online, ${what}: client p50 ${online.p50.toFixed(1)} ms, p99 ${online.p99.toFixed(1)} ms ${JSON.stringify(online.results)}; ${workerSide(worker.output, mark0, s)}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    await db.pause();
    try {
      for (const s of ['on', 'off', 'breaker']) {
        const mark = worker.output.length;
        const r = await run(box, s);
        console.log(`MariaDB paused (SIGSTOP), store_timeout = 1 s, store=${s}: client p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms ${JSON.stringify(r.results)}; ${workerSide(worker.output, mark, s)}`);
      }
    } finally {
      db.resume();
    }
    if (process.env.SHOW_SLOW) {
      for (const l of worker.output.split('\n')) if (/ ms=([0-9]{4,})/.test(l) || /circuit|offline\./.test(l)) console.log(l);
    }
  } finally {
    await box.cleanup();
    await db.destroy();
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
