// The benchmark's Kerberos row (bench/krb5.ts) through what `npm run bench` measures: the run's
// copy of the build (bench/snapshot.ts), whose worker checks the users against a private KDC
// filled as the benchmark fills it. The copy once lacked the krb5 store's addon, and every login
// of the row failed.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { addPrincipals, startBenchKdc } from '../../bench/krb5';
import { runLoad, usePamLoad } from '../../bench/pam-load';
import { Snapshot, takeSnapshot } from '../../bench/snapshot';
import { MapiStack, Servers } from '../../bench/stacks';
import { PrivateKdc } from '../../src/sandbox/kdc';

const USERS = 12;

let dir: string;
let build: Snapshot;
let kdc: PrivateKdc;
let stack: MapiStack;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-bench-krb5-'));
  build = takeSnapshot(dir);
  usePamLoad(build.pamLoad);
  kdc = await startBenchKdc();
  await addPrincipals(kdc, 0, USERS);
  // The krb5 stack reads only the KDC of the benchmark's servers.
  const servers = { kdc } as Partial<Servers> as Servers;
  stack = new MapiStack('mapi_krb5', servers, 4, build);
}, 60000);

afterAll(async () => {
  await stack?.cleanup();
  await kdc?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('the krb5 store in the run\'s copy of the build accepts every right password of the principals the benchmark made, and refuses every wrong one', async () => {
  await stack.restart();
  // 2 threads, 12 transactions each, every 4th with a wrong password: pam_load counts an
  // accepted wrong password or a refused right one as a wrong answer.
  const r = await runLoad({ confDir: stack.target.confDir, service: stack.target.service, users: USERS, clients: 2, count: 12, wrongEvery: 4 });
  expect({ transactions: r.transactions, wrongAnswers: r.wrongAnswers, refused: r.failed }).toEqual({ transactions: 24, wrongAnswers: 0, refused: 6 });
  expect(stack.worker?.problemLines()).toEqual([]);
});

it('the benchmark\'s principals require pre-authentication, as Active Directory\'s do', () => {
  // kadmin's "-requires_preauth" clears the flag: the KDC would then answer an AS-REQ for the
  // user without a key, and a login would be one AS exchange fewer than against AD.
  const r = spawnSync('kadmin.local', ['-r', kdc.realm, '-q', 'getprinc user0'], { env: kdc.env, encoding: 'utf8' });
  expect(r.stdout).toMatch(/^Principal: user0@/m);
  expect(/^Attributes:(.*)$/m.exec(r.stdout)?.[1]).toContain('REQUIRES_PRE_AUTH');
});
