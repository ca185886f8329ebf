// The offline verifier cache with real servers, real libpam, the built module and a real worker:
// MariaDB (zarafa store) and slapd (ldap store) stopped, paused (SIGSTOP) and behind a proxy
// that drops every packet. A user who logged in online logs in during the outage (offline=yes
// in the worker's line); a wrong password is
// refused and counted until the user is locked; an entry past offline_max_age, a user disabled
// online before the outage, a user never seen online and a store without the cache are refused;
// the cache survives a worker restart and a kill -9 during its write; the store back answers
// online again and refreshes the entry.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { freePort } from '../../src/sandbox/ports';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { OBJECTCLASS } from '../../src/stores/zarafa/zarafa-store';
import { cacheText, Entry, parseCacheText } from '../../src/worker/offline-cache';
import { pamRun } from '../helpers/pam';
import { TcpProxy } from '../helpers/tcp-proxy';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'].map((login) => ({ login, password: `${login}-pw-€` }));
const pw = (login: string): string => (USERS.find((u) => u.login === login) as { password: string }).password;

/** One store kind: its server, and how to disable a user in it. */
interface Backend {
  name: 'db' | 'dir';
  stop(): Promise<void>;
  start(): Promise<void>;
  pause(): Promise<void>;
  resume(): void;
  disable(login: string): Promise<void>;
  section(name: string, extra: string): string;
}

let db: PrivateMariaDB;
let slapd: PrivateSlapd;
let box: Sandbox;
let config: string;
let worker: WorkerProcess;
let dbProxy: TcpProxy;
let dirProxy: TcpProxy;
const state = (): string => path.join(box.dir, 'state');
const cacheFile = (store: string): string => path.join(state(), `offline-${store}.cache`);

const backends: Record<'db' | 'dir', () => Backend> = {
  db: () => ({
    name: 'db',
    stop: () => db.stop(),
    start: () => db.launch(),
    pause: () => db.pause(),
    resume: () => db.resume(),
    disable: async (login) => {
      await db.sql('UPDATE kopano.object o JOIN kopano.objectproperty p ON p.objectid = o.id SET o.objectclass = ? WHERE p.propname = ? AND p.value = ?', [OBJECTCLASS.NONACTIVE_USER, 'loginname', login]);
    },
    section: (name, extra) => `[store.${name}]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\n${extra}\n`,
  }),
  dir: () => ({
    name: 'dir',
    stop: () => slapd.stop(),
    start: () => slapd.launch(),
    pause: () => slapd.pause(),
    resume: () => slapd.resume(),
    disable: (login) => slapd.modify(`dn: cn=${login},${PEOPLE}\nchangetype: modify\nreplace: kopanoAccount\nkopanoAccount: 0\n`),
    // A directory entry disabled between two logins counts at the second, as in the database
    // (the reuse of found entries, which delays that, is test/integration/ldap-entry-reuse.test.ts).
    section: (name, extra) => `[store.${name}]\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password = "${SERVICE_PASSWORD}"\nbase = ${PEOPLE}\ndisabled_features =\nentry_cache_timeout = 0\n${extra}\n`,
  }),
};

function sections(b: Backend): string {
  const cache = (store: string, extra: string): string => `offline_cache = yes\noffline_cache_file = ${cacheFile(store)}\n${extra}`;
  return [
    // 2m: a renewal alone reaches the file once it moves the entry's age by a hundredth of
    // offline_max_age (1.2 s), which the outage below always does (it waits 3.5 s at least).
    b.section(b.name, cache(b.name, 'offline_max_age = 2m\noffline_failed_attempts = 3\noffline_lockout = 10m\n')),
    // Seconds, so the test sees an entry expire.
    b.section(`${b.name}short`, cache(`${b.name}short`, 'offline_max_age = 3s\n')),
    b.section(`${b.name}off`, ''),
  ].join('\n');
}

beforeAll(async () => {
  for (const u of USERS) recordSecret(u.password);
  db = await PrivateMariaDB.start({ port: await freePort() });
  await createKopanoDatabase(db, 'kopano');
  for (const u of USERS) await insertKopanoUser(db, 'kopano', u);
  await db.createReader('kopano', 'pw', 'kopano');
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  const ssha = (p: string): string => execFileSync('slappasswd', ['-h', '{SSHA}', '-s', p]).toString().trim();
  await slapd.add(USERS.map((u) => `dn: cn=${u.login},${PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: kopano-user\ncn: ${u.login}\nsn: Test\nuid: ${u.login}\n`
    + `userPassword:: ${Buffer.from(ssha(u.password)).toString('base64')}\nkopanoAccount: 1\n`).join('\n'));
  box = Sandbox.create();
  dbProxy = await TcpProxy.start(db.port as number);
  dirProxy = await TcpProxy.start(slapd.ldapPort);
  const proxied = `[store.dbproxy]\ntype = zarafa\nhost = 127.0.0.1\nport = ${dbProxy.port}\nuser = kopano\npassword = pw\noffline_cache = yes\noffline_cache_file = ${cacheFile('dbproxy')}\n\n`
    + `[store.dirproxy]\ntype = ldap\nuri = ldap://127.0.0.1:${dirProxy.port}\nbind_dn = ${SERVICE_DN}\nbind_password = "${SERVICE_PASSWORD}"\nbase = ${PEOPLE}\noffline_cache = yes\noffline_cache_file = ${cacheFile('dirproxy')}\n`;
  config = box.writeConfig(`${sections(backends.db())}\n${sections(backends.dir())}\n${proxied}`, 'store_timeout = 1\n');
  for (const s of ['db', 'dbshort', 'dboff', 'dir', 'dirshort', 'diroff', 'dbproxy', 'dirproxy']) {
    box.service(s, [`auth required {module} store=${s} ${box.workerArg}`, `account required {module} store=${s} ${box.workerArg}`]);
  }
  worker = await box.startWorker(config);
}, 120000);

afterAll(async () => {
  await dbProxy?.close();
  await dirProxy?.close();
  await box?.cleanup();
  await db?.destroy();
  await slapd?.destroy();
});

async function login(service: string, user: string, password = pw(user)): Promise<{ auth?: string; account?: string }> {
  const r = await pamRun(box, service, user, [password], { account: true });
  return { auth: r.auth, account: r.account };
}

/** The cache file's entries, once it holds every one of users (written after the answer). */
async function cached(store: string, users: string[]): Promise<Map<string, Entry>> {
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(cacheFile(store))) {
      const parsed = parseCacheText(fs.readFileSync(cacheFile(store), 'utf8'));
      if (typeof parsed !== 'string' && users.every((u) => parsed.has(u))) return parsed;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${cacheFile(store)} does not hold ${users.join(', ')}`);
}

/** The worker's request lines for user since the mark, once there are n (the worker writes
 * its line after the answer, so it may arrive after the PAM call returned). */
async function lines(w: WorkerProcess, mark: number, user: string, n = 1): Promise<string[]> {
  const now = (): string[] => w.output.slice(mark).split('\n').filter((l) => / request /.test(l) && l.includes(` user=${user} `));
  for (let i = 0; i < 100 && now().length < n; i++) await new Promise((r) => setTimeout(r, 20));
  return now();
}

async function restartWorker(): Promise<void> {
  await worker.stop();
  worker = await box.startWorker(config);
}

describe.each(['db', 'dir'] as const)('%s store down', (kind) => {
  const b = backends[kind]();
  const s = b.name;

  test('stopped: users who logged in online still log in (offline=yes); nobody else, no wrong password, no disabled account', async () => {
    for (const u of ['alice', 'bob', 'dave']) expect(await login(s, u)).toEqual({ auth: 'PAM_SUCCESS', account: 'PAM_SUCCESS' });
    expect((await login(`${s}short`, 'alice')).auth).toBe('PAM_SUCCESS');
    expect((await login(`${s}off`, 'alice')).auth).toBe('PAM_SUCCESS');
    const before = await cached(s, ['alice', 'bob', 'dave']);
    await cached(`${s}short`, ['alice']);
    const shortAt = Date.now();
    // Disabled online before the outage: the store says so once, the cache remembers.
    await b.disable('dave');
    expect((await login(s, 'dave')).auth).toBe('PAM_PERM_DENIED');
    expect(fs.statSync(cacheFile(s)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(state()).mode & 0o777).toBe(0o700);

    await b.stop();
    try {
      const mark = worker.output.length;
      const logMark = syslogMark();
      expect(await login(s, 'alice')).toEqual({ auth: 'PAM_SUCCESS', account: 'PAM_SUCCESS' });
      // The module's syslog line says so too (auth.log, pam-mapi check).
      expect(moduleLines(await syslogSince(logMark), 'store unavailable: answered from the offline cache; user=alice')).toHaveLength(2);
      // One line for the transaction: the authentication and its account request.
      const offline = await lines(worker, mark, 'alice', 1);
      expect(offline).toHaveLength(1);
      expect(offline[0]).toMatch(/result=PAM_SUCCESS .*offline=yes .*account=PAM_SUCCESS/);
      // Never seen online: the outage stands.
      expect((await login(s, 'carol')).auth).toBe('PAM_AUTHINFO_UNAVAIL');
      expect((await login(s, 'dave')).auth).toBe('PAM_PERM_DENIED');
      // Without the cache: today's behaviour.
      expect((await login(`${s}off`, 'alice')).auth).toBe('PAM_AUTHINFO_UNAVAIL');
      // Wrong passwords: refused, counted, then even the right one is refused for the lockout.
      for (let i = 0; i < 3; i++) expect((await login(s, 'bob', `guess-${i}`)).auth).toBe('PAM_AUTH_ERR');
      expect((await login(s, 'bob')).auth).toBe('PAM_AUTH_ERR');
      expect(worker.output.slice(mark)).toMatch(/offline\.locked .*user=bob/);
      // Past offline_max_age.
      await new Promise((r) => setTimeout(r, Math.max(0, shortAt + 3500 - Date.now())));
      expect((await login(`${s}short`, 'alice')).auth).toBe('PAM_AUTHINFO_UNAVAIL');

      // A worker restarted during the outage reads the cache back.
      await restartWorker();
      const mark2 = worker.output.length;
      expect(await login(s, 'alice')).toEqual({ auth: 'PAM_SUCCESS', account: 'PAM_SUCCESS' });
      expect((await lines(worker, mark2, 'alice'))[0]).toMatch(/offline=yes/);
      expect((await login(s, 'alice', 'wrong')).auth).toBe('PAM_AUTH_ERR');
      expect((await login(s, 'bob')).auth).toBe('PAM_AUTH_ERR');
    } finally {
      await b.start();
    }
    // Back: online again once the probe has seen it (within a few seconds), the entry renewed.
    let online = false;
    for (let i = 0; i < 50 && !online; i++) {
      const mark = worker.output.length;
      const r = await login(s, 'alice');
      online = r.auth === 'PAM_SUCCESS' && !/offline=yes/.test((await lines(worker, mark, 'alice'))[0] ?? 'offline=yes');
      if (!online) await new Promise((r2) => setTimeout(r2, 200));
    }
    expect(online).toBe(true);
    // Renewals are written in batches, every 2 s: wait for the file, up to 10 s on a busy host.
    for (let i = 0; i < 500; i++) {
      const e = (await cached(s, ['alice'])).get('alice') as Entry;
      if (e.onlineAt > (before.get('alice') as Entry).onlineAt) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await cached(s, ['alice'])).get('alice')?.onlineAt).toBeGreaterThan((before.get('alice') as Entry).onlineAt);
    // The lockout was an offline matter: online the store decides.
    expect((await login(s, 'bob')).auth).toBe('PAM_SUCCESS');
  }, 120000);

  test('paused (SIGSTOP): answered from the cache after store_timeout, never a wrong yes', async () => {
    expect((await login(s, 'erin')).auth).toBe('PAM_SUCCESS');
    await cached(s, ['erin']);
    await b.pause();
    try {
      const mark = worker.output.length;
      expect(await login(s, 'erin')).toEqual({ auth: 'PAM_SUCCESS', account: 'PAM_SUCCESS' });
      expect((await lines(worker, mark, 'erin'))[0]).toMatch(/offline=yes/);
      expect((await login(s, 'erin', 'wrong')).auth).toBe('PAM_AUTH_ERR');
      expect((await login(s, 'carol')).auth).toBe('PAM_AUTHINFO_UNAVAIL');
      expect((await login(`${s}off`, 'erin')).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      b.resume();
    }
  }, 60000);
});

describe.each([['dbproxy', () => dbProxy], ['dirproxy', () => dirProxy]] as const)('%s: behind a proxy that drops every packet', (service, proxy) => {
  test('answered from the cache after store_timeout for a user seen online, nobody else; online again once packets flow', async () => {
    expect((await login(service, 'alice')).auth).toBe('PAM_SUCCESS');
    await cached(service, ['alice']);
    proxy().blackhole = true;
    try {
      const mark = worker.output.length;
      expect(await login(service, 'alice')).toEqual({ auth: 'PAM_SUCCESS', account: 'PAM_SUCCESS' });
      expect((await lines(worker, mark, 'alice'))[0]).toMatch(/offline=yes/);
      expect((await login(service, 'alice', 'wrong')).auth).toBe('PAM_AUTH_ERR');
      expect((await login(service, 'carol')).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      proxy().blackhole = false;
      // Connections that lost bytes are useless; the store opens new ones.
      proxy().dropAll();
    }
    let online = false;
    for (let i = 0; i < 50 && !online; i++) {
      const mark = worker.output.length;
      const r = await login(service, 'alice');
      online = r.auth === 'PAM_SUCCESS' && !/offline=yes/.test((await lines(worker, mark, 'alice'))[0] ?? 'offline=yes');
      if (!online) await new Promise((r2) => setTimeout(r2, 200));
    }
    expect(online).toBe(true);
  }, 60000);
});

test('kill -9 of the worker while it writes the cache: nothing lost, nothing wrongly accepted', async () => {
  // A big file, so a write takes long enough to be interrupted.
  const big = new Map<string, Entry>();
  for (let i = 0; i < 60_000; i++) {
    big.set(`filler${i}`, { salt: Buffer.alloc(16, 1), verifier: Buffer.alloc(32, i % 256), login: `filler${i}`, state: 'active', enabled: [], disabled: [], onlineAt: Date.now(), failures: 0, lockedUntil: 0 });
  }
  await worker.stop();
  fs.writeFileSync(cacheFile('db'), cacheText(big), { mode: 0o600 });
  worker = await box.startWorker(config);
  expect((await login('db', 'carol')).auth).toBe('PAM_SUCCESS');
  const kept = await cached('db', ['carol', 'filler0']);
  for (let round = 0; round < 4; round++) {
    // Logins that each rewrite the file; the worker is killed while that goes on.
    const running = Promise.all(['alice', 'erin', 'carol'].map((u) => login('db', u).catch(() => undefined)));
    // Killed once the temporary file exists, that is between its creation and the rename.
    const tmp = `${cacheFile('db')}.tmp`;
    const until = Date.now() + 10_000;
    let seen = false;
    while (!(seen = fs.existsSync(tmp)) && Date.now() < until) await new Promise((r) => setImmediate(r));
    worker.signal('SIGKILL');
    expect(seen).toBe(true);
    await worker.ended();
    await running;
    const after = parseCacheText(fs.readFileSync(cacheFile('db'), 'utf8'));
    if (typeof after === 'string') throw new Error(`round ${round}: ${after}`);
    // Every entry that was there before is still there.
    for (const k of kept.keys()) expect(after.has(k)).toBe(true);
    worker = await box.startWorker(config);
  }
  await db.stop();
  try {
    expect((await login('db', 'carol')).auth).toBe('PAM_SUCCESS');
    expect((await login('db', 'carol', 'not-carols')).auth).toBe('PAM_AUTH_ERR');
    expect((await login('db', 'filler1', 'anything')).auth).toBe('PAM_AUTH_ERR');
  } finally {
    await db.launch();
  }
}, 120000);
