// CPU time of the worker's decision for one transaction (authentication with the password
// the module sent in its request, then the account request answered from it), in-process: decide() twice against a
// file store, no sockets. For measuring changes to the policy's per-request JavaScript, which
// the socket figures of worker-cpu-ab.ts bury in noise on a shared machine.
//   node dist/bench/decide-cost.js [transactions=200000]
import fs from 'fs';
import os from 'os';
import path from 'path';
import { FileStore } from '../src/stores/file/file-store';
import { usersFileLine } from '../src/sandbox/sandbox';
import { decide, EarlierAuth, PolicyContext } from '../src/worker/policy';
import { PamRequest } from '../src/protocol/messages';
import { Throttle } from '../src/worker/throttle';
import { DEFAULT_THROTTLE } from '../src/config/throttle';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decide-cost-'));
  const users = 1000;
  const file = path.join(dir, 'users');
  fs.writeFileSync(file, Array.from({ length: users }, (_, k) => usersFileLine({ login: `user${k}`, password: `pw-${k}` })).join('\n') + '\n', { mode: 0o600 });
  const store = new FileStore({ path: file, disabledFeatures: [], format: 'pam_mapi', realm: null, allowPlaintext: false });
  const ctx: PolicyContext = { stores: new Map([['', store]]), storeTimeoutMs: 5000, configFile: 'x', accountReuseMs: 5000, throttle: new Throttle(DEFAULT_THROTTLE) };
  const req = (op: 'authenticate' | 'account', k: number): PamRequest => ({
    op, service: 'smtp', user: Buffer.from(`user${k}`), rhost: '', ruser: '', tty: '', logname: '', uid: 0, euid: 0,
    args: [`worker=/run/pam_mapi/worker.sock`], argsTruncated: false,
    password: op === 'authenticate' ? { kind: 'ok', from: 'prompt', secret: Buffer.from(`pw-${k}`) } : null,
  });
  const run = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const k = i % users;
      const r = req('authenticate', k);
      const out = await decide(r, ctx);
      if (out.result !== 'SUCCESS' || out.record === undefined) throw new Error(`user${k}: ${out.result} ${out.reason}`);
      const earlier: EarlierAuth = { ...out.record, user: Buffer.from(r.user ?? ''), atMs: performance.now() };
      const acct = await decide(req('account', k), ctx, earlier);
      if (acct.result !== 'SUCCESS') throw new Error(`account user${k}: ${acct.result}`);
    }
  };
  await run(Math.min(n, 20000));
  const before = process.cpuUsage();
  await run(n);
  const used = process.cpuUsage(before);
  process.stdout.write(`decide: ${(((used.user + used.system) / n)).toFixed(2)} µs CPU per transaction (${n} transactions)\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
