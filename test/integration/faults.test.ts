// Faults with the real module, worker and stores: the worker restarted or killed under load,
// with and without socket activation; a reload under load; one store hanging while another
// serves. Every answer is either right or PAM_AUTHINFO_UNAVAIL; never a wrong success.
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { Sandbox } from '../../src/sandbox/sandbox';
import { ActivatedWorker } from '../helpers/activated-worker';
import { pamRun } from '../helpers/pam';

const USERS = Array.from({ length: 8 }, (_, i) => ({ login: `user${i}`, password: `pass-${i}` }));
let db: PrivateMariaDB;
let box: Sandbox;
let config: string;

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await createKopanoDatabase(db, 'kopano');
  for (const u of USERS) await insertKopanoUser(db, 'kopano', u);
  await db.createReader('kopano', 'pw', 'kopano');
  box = Sandbox.create();
  box.writeUsers(USERS);
  config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\n\n[store.db]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\n`, 'store_timeout = 3\n');
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  box.service('db', [`auth required {module} store=db ${box.workerArg}`]);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
});

interface Outcome { want: string; got: string | undefined }

/** n transactions spread over spreadMs, every third with a wrong password. */
function load(service: string, n: number, spreadMs: number): Promise<Outcome[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (i * spreadMs) / n));
    const u = USERS[i % USERS.length];
    const right = i % 3 !== 0;
    const r = await pamRun(box, service, u.login, [right ? u.password : 'wrong']);
    return { want: right ? 'PAM_SUCCESS' : 'PAM_AUTH_ERR', got: r.auth };
  }));
}

function neverWrong(outcomes: Outcome[]): void {
  for (const o of outcomes) expect([o.want, 'PAM_AUTHINFO_UNAVAIL']).toContain(o.got);
  // A wrong password never got a yes.
  expect(outcomes.filter((o) => o.want === 'PAM_AUTH_ERR' && o.got === 'PAM_SUCCESS')).toEqual([]);
}

describe('socket activation (the listening socket passed as fd 3, as systemd does)', () => {
  test('a worker restart under load loses no request: every answer is right', async () => {
    const w = new ActivatedWorker(box.socketPath, config);
    try {
      await w.listening(1);
      const running = load('smtp', 64, 1500);
      await new Promise((r) => setTimeout(r, 300));
      w.restart();
      // The second restart only once the second worker serves (under ASan it starts slowly):
      // a worker stopped while starting never listens, and proves less.
      await w.listening(2);
      w.restart();
      const outcomes = await running;
      await w.listening(3);
      expect(outcomes.filter((o) => o.got !== o.want)).toEqual([]);
      expect(outcomes).toHaveLength(64);
    } finally {
      await w.stop();
    }
  }, 60000);

  test('a worker killed (SIGKILL) with 32 requests in flight: those end in PAM_AUTHINFO_UNAVAIL, later ones are right', async () => {
    const w = new ActivatedWorker(box.socketPath, config);
    try {
      await w.listening(1);
      // The database hangs, so all 32 are provably inside the worker when it dies.
      await db.pause();
      const inFlight = load('db', 32, 100);
      await new Promise((r) => setTimeout(r, 600));
      w.crash();
      await w.listening(2);
      db.resume();
      const outcomes = await inFlight;
      neverWrong(outcomes);
      expect(outcomes.every((o) => o.got === 'PAM_AUTHINFO_UNAVAIL')).toBe(true);
      const after = await load('db', 32, 300);
      expect(after.filter((o) => o.got !== o.want)).toEqual([]);
    } finally {
      db.resume();
      await w.stop();
    }
  }, 60000);
});

test('without socket activation, a killed worker: PAM_AUTHINFO_UNAVAIL until it is back, never a wrong yes', async () => {
  const worker = await box.startWorker(config);
  await db.pause();
  const inFlight = load('db', 32, 100);
  await new Promise((r) => setTimeout(r, 600));
  worker.signal('SIGKILL');
  await worker.ended();
  db.resume();
  const outcomes = await inFlight;
  neverWrong(outcomes);
  expect(outcomes.every((o) => o.got === 'PAM_AUTHINFO_UNAVAIL')).toBe(true);
  // The dead worker's socket file is left behind; connecting to it is refused: still a no.
  expect((await pamRun(box, 'smtp', 'user1', ['pass-1'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
  // A new worker clears the stale socket and serves.
  const again = await box.startWorker(config);
  expect((await pamRun(box, 'smtp', 'user1', ['pass-1'])).auth).toBe('PAM_SUCCESS');
  await again.stop();
}, 60000);

test('SIGHUP under load: the reload drops no request', async () => {
  const worker = await box.startWorker(config);
  try {
    const running = load('smtp', 64, 1500);
    for (const at of [200, 500, 900]) setTimeout(() => worker.signal('SIGHUP'), at);
    const outcomes = await running;
    expect(outcomes.filter((o) => o.got !== o.want)).toEqual([]);
    expect((worker.output.match(/ reloaded /g) ?? []).length).toBe(3);
  } finally {
    await worker.stop();
  }
}, 60000);

test('one store hanging: its requests end within store_timeout in PAM_AUTHINFO_UNAVAIL, the other store keeps serving', async () => {
  const worker = await box.startWorker(config);
  await db.pause();
  try {
    const started = Date.now();
    const hanging = load('db', 8, 50);
    const meanwhile = await load('smtp', 32, 500);
    expect(meanwhile.filter((o) => o.got !== o.want)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000); // answered while the database hangs
    const stuck = await hanging;
    expect(stuck.every((o) => o.got === 'PAM_AUTHINFO_UNAVAIL')).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000 + 3000); // store_timeout 3 s plus a margin
  } finally {
    db.resume();
    await worker.stop();
  }
  // And it recovers by itself.
  const w2 = await box.startWorker(config);
  expect((await pamRun(box, 'db', 'user2', ['pass-2'])).auth).toBe('PAM_SUCCESS');
  await w2.stop();
}, 60000);
