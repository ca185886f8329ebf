// Worker CPU per transaction, A/B in one run: file-store workers of several builds and the
// Node floor (node-floor.ts: a do-nothing server replaying one transaction recorded from the
// first variant's worker) behind the same module and socket, driven by pam_load in turn (each round starts with another one, so the machine's drift touches all), the CPU
// each used read from /proc. For measuring a change to the worker's per-request path.
//   node dist/bench/worker-cpu-ab.js [--variant NAME=DIR ...] [--no-floor] [--clients 1,16]
//        [--seconds 3] [--rounds 3] [--users 1000] [--wrong-every 0]
// DIR@--flag,... runs that build with more Node.js flags. DIR holds a copy of a build's dist/src (DIR/dist/src/worker/main.js) with node_modules
// reachable from it; the default variant is this checkout's dist/src. As root.
import path from 'path';
import { REPO_ROOT, Sandbox } from '../src/sandbox/sandbox';
import { cpuSeconds } from './proc-stats';
import { runLoad, usePamLoad, USER_PREFIX } from './pam-load';
import { userPassword } from './mysql-fill';
import { BenchWorker } from './worker';
import { NodeFloor } from './node-floor';
import { OTHER } from './stacks';
import { median } from './median';

interface Variant {
  name: string;
  main: string;
  /** Node.js flags beyond the worker's own (node-flags.ts). */
  flags: string[];
}

/** A process behind the module that pam_load drives and whose CPU is read. */
interface Measured {
  name: string;
  confDir: string;
  service: string;
  pid: number;
  stop(): Promise<void>;
}

const FLOOR_NAME = 'node floor';

interface Point {
  name: string;
  clients: number;
  round: number;
  authsPerS: number;
  p50: number;
  cpuUsPerTxn: number;
  wrong: number;
}

function parse(argv: string[]): { variants: Variant[]; floor: boolean; clients: number[]; seconds: number; rounds: number; users: number; wrongEvery: number } {
  const o = { variants: [] as Variant[], floor: true, clients: [1, 16], seconds: 3, rounds: 3, users: 1000, wrongEvery: 0 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--variant': {
        // NAME=DIR or NAME=DIR@--flag,--flag
        const [name, rest] = [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)];
        const [dir, flags] = rest.split('@');
        o.variants.push({ name, main: path.resolve(dir, 'dist/src/worker/main.js'), flags: flags === undefined ? [] : flags.split(',') });
        i++;
        break;
      }
      case '--no-floor': o.floor = false; break;
      case '--clients': o.clients = v.split(',').map(Number); i++; break;
      case '--seconds': o.seconds = Number(v); i++; break;
      case '--rounds': o.rounds = Number(v); i++; break;
      case '--users': o.users = Number(v); i++; break;
      case '--wrong-every': o.wrongEvery = Number(v); i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (o.variants.length === 0) o.variants.push({ name: 'this checkout', main: path.join(REPO_ROOT, 'dist/src/worker/main.js'), flags: [] });
  return o;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  usePamLoad(path.join(REPO_ROOT, 'build/Release/pam_load'));
  const module = path.join(REPO_ROOT, 'build/Release/pam_mapi.so');
  const boxes = o.variants.map((v) => {
    const box = Sandbox.create('pam_mapi-cpu-ab-');
    box.writeUsers(Array.from({ length: o.users }, (_, k) => ({ login: `${USER_PREFIX}${k}`, password: userPassword(k) })));
    const config = box.writeConfig(`[store]\ntype = file\npath = ${path.join(box.dir, 'users')}\n`);
    box.service('other', OTHER);
    box.service('mapi', [`auth required ${module} ${box.workerArg}`, `account required ${module} ${box.workerArg}`]);
    return { v, box, config };
  });
  const stacks: Measured[] = [];
  const points: Point[] = [];
  try {
    for (const b of boxes) {
      const worker = await BenchWorker.start(b.config, BenchWorker.logPath(b.box.dir, 'worker'), b.v.main, b.v.flags);
      stacks.push({ name: b.v.name, confDir: b.box.pamDir, service: 'mapi', pid: worker.pid, stop: () => worker.stop() });
    }
    if (o.floor) {
      // Recorded through the same module from a worker that knows user 0, so it speaks the round
      // trips the module and the workers speak.
      const floor = await NodeFloor.recordFrom(module, boxes[0].box.socketPath);
      const t = floor.target;
      stacks.push({ name: FLOOR_NAME, confDir: t.confDir, service: t.service, pid: floor.pid, stop: () => floor.stop() });
    }
    for (const s of stacks) await runLoad({ confDir: s.confDir, service: s.service, users: o.users, clients: 4, seconds: 1, wrongEvery: o.wrongEvery });
    for (let round = 1; round <= o.rounds; round++) {
      for (const c of o.clients) {
        const k = round % stacks.length;
        for (const s of [...stacks.slice(k), ...stacks.slice(0, k)]) {
          const before = cpuSeconds(s.pid);
          const load = await runLoad({ confDir: s.confDir, service: s.service, users: o.users, clients: c, seconds: o.seconds, wrongEvery: o.wrongEvery });
          const cpu = cpuSeconds(s.pid) - before;
          const p: Point = { name: s.name, clients: c, round, authsPerS: load.authsPerS, p50: load.p50, cpuUsPerTxn: (cpu * 1e6) / Math.max(1, load.transactions), wrong: load.wrongAnswers };
          points.push(p);
          process.stdout.write(`round ${round} ${String(c).padStart(2)} clients ${p.name.padEnd(16)} ${p.authsPerS.toFixed(0).padStart(6)}/s p50 ${String(p.p50).padStart(5)} µs  worker ${p.cpuUsPerTxn.toFixed(1).padStart(6)} µs/txn  wrong ${p.wrong}\n`);
        }
      }
    }
  } finally {
    for (const s of stacks) await s.stop().catch(() => undefined);
    for (const b of boxes) await b.box.cleanup();
  }
  const floor = o.floor ? FLOOR_NAME : undefined;
  process.stdout.write('\nmedians over the rounds:\n');
  for (const c of o.clients) {
    const floorCpu = floor === undefined ? undefined : median(points.filter((p) => p.name === floor && p.clients === c).map((p) => p.cpuUsPerTxn));
    for (const name of stacks.map((s) => s.name)) {
      const at = points.filter((p) => p.name === name && p.clients === c);
      const cpu = median(at.map((p) => p.cpuUsPerTxn));
      const ratio = floorCpu === undefined ? '' : `  ${(cpu / floorCpu).toFixed(2)}× floor`;
      process.stdout.write(`${String(c).padStart(2)} clients ${name.padEnd(16)} ${median(at.map((p) => p.authsPerS)).toFixed(0).padStart(6)}/s p50 ${String(median(at.map((p) => p.p50))).padStart(5)} µs  worker ${cpu.toFixed(1).padStart(6)} µs/txn${ratio}\n`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
