// What reusing a found entry (entry_cache_timeout) buys the ldap store: the same build, one
// worker with entry_cache_timeout = 0 (a search for every login, as before) and one with the
// default, against one private slapd, alternating for a few rounds at 1 and 16 clients. Per
// point: auths/s and p50 from pam_load, CPU per transaction of slapd and of the worker from
// /proc, and slapd's own count of searches and binds per transaction (its monitor database).
// Right passwords only, so no module writes a syslog line. Run as root:
//   node dist/bench/ldap-reuse.js [USERS] [SECONDS] [ROUNDS]
// pam_load takes the users in turn: with 1,000 users each comes back within a fraction of a
// second (a busy mail host's clients), with 100,000 never within the timeout (the worst case).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PrivateSlapd } from '../src/sandbox/slapd';
import { freePort } from '../src/sandbox/ports';
import { growLdapUsers } from './ldap-fill';
import { LoadResult, runLoad, usePamLoad } from './pam-load';
import { cpuSeconds } from './proc-stats';
import { takeSnapshot } from './snapshot';
import { MapiStack, Servers } from './stacks';
import { median } from './median';

const VARIANTS = { 'entry_cache_timeout = 0': 'entry_cache_timeout = 0\n', 'default (5 s)': '' } as const;
type Variant = keyof typeof VARIANTS;

interface Point {
  variant: Variant;
  clients: number;
  load: LoadResult;
  slapdUs: number;
  workerUs: number;
  searches: number;
  binds: number;
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 1000);
  const seconds = Number(process.argv[3] ?? 3);
  const rounds = Number(process.argv[4] ?? 3);
  // Every temporary file of the run in one directory, removed at the end.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-ldap-reuse-'));
  process.env.TMPDIR = tmp;
  const slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  const stacks = new Map<Variant, MapiStack>();
  try {
    await growLdapUsers(slapd, 0, users);
    const build = takeSnapshot(tmp);
    usePamLoad(build.pamLoad);
    // Only the slapd is used by the ldap store's stack.
    const servers = { slapd, db: null, nslcd: null } as unknown as Servers;
    for (const [v, keys] of Object.entries(VARIANTS) as Array<[Variant, string]>) {
      const stack = new MapiStack('mapi_ldap', servers, 1, build, undefined, { store: keys });
      stacks.set(v, stack);
      await stack.restart();
      await runLoad({ confDir: stack.target.confDir, service: stack.target.service, users, clients: 1, seconds: 1, wrongEvery: 0 });
    }
    const slapdPid = slapd.pid ?? -1;
    const points: Point[] = [];
    console.log(`ldap store, ${users} users, ${seconds} s per point, ${rounds} rounds, right passwords only`);
    for (let round = 1; round <= rounds; round++) {
      for (const clients of [1, 16]) {
        const order = [...stacks];
        // Each round starts with the other variant.
        for (const [variant, stack] of round % 2 === 0 ? order.reverse() : order) {
          const workerPid = stack.worker?.pid ?? -1;
          const ops0 = await slapd.completedOperations();
          const s0 = cpuSeconds(slapdPid);
          const w0 = cpuSeconds(workerPid);
          const load = await runLoad({ confDir: stack.target.confDir, service: stack.target.service, users, clients, seconds, wrongEvery: 0 });
          const s1 = cpuSeconds(slapdPid);
          const w1 = cpuSeconds(workerPid);
          const ops1 = await slapd.completedOperations();
          const n = Math.max(1, load.transactions);
          const p: Point = {
            variant, clients, load,
            slapdUs: ((s1 - s0) * 1e6) / n, workerUs: ((w1 - w0) * 1e6) / n,
            searches: (ops1.searches - ops0.searches) / n, binds: (ops1.binds - ops0.binds) / n,
          };
          points.push(p);
          console.log(`  round ${round}, ${String(clients).padStart(2)} clients, ${variant.padEnd(24)}: ${load.authsPerS.toFixed(0).padStart(5)}/s  p50 ${load.p50} µs`
            + `  slapd ${p.slapdUs.toFixed(0)} µs/tx  worker ${p.workerUs.toFixed(0)} µs/tx  searches ${p.searches.toFixed(2)}/tx  binds ${p.binds.toFixed(2)}/tx`
            + `  failed ${load.failed}  wrong answers ${load.wrongAnswers}`);
        }
      }
    }
    console.log('\nmedians over the rounds:');
    console.log('| clients | variant | auths/s | p50 µs | slapd CPU µs/tx | worker CPU µs/tx | searches/tx | binds/tx |');
    console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const clients of [1, 16]) {
      for (const variant of stacks.keys()) {
        const at = points.filter((p) => p.clients === clients && p.variant === variant);
        const m = (f: (p: Point) => number, digits = 0): string => median(at.map(f)).toFixed(digits);
        console.log(`| ${clients} | ${variant} | ${m((p) => p.load.authsPerS)} | ${m((p) => p.load.p50)} | ${m((p) => p.slapdUs)} | ${m((p) => p.workerUs)} | ${m((p) => p.searches, 2)} | ${m((p) => p.binds, 2)} |`);
      }
    }
    const bad = points.reduce((a, p) => a + p.load.failed + p.load.wrongAnswers, 0);
    if (bad > 0) {
      console.log(`\n${bad} transactions failed or answered wrongly`);
      process.exitCode = 1;
    }
  } finally {
    for (const stack of stacks.values()) await stack.cleanup().catch(() => undefined);
    await slapd.destroy().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
