// Peers that try to hold the worker's memory, descriptors or time: a refused process streaming
// frames, an allowed one streaming after an ERROR, trickling bytes, idle connections by the
// hundred under a small file limit, and the connection caps. Real logins must keep working.
import { spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { Field, MessageType, Op, PasswordFrom, PROTOCOL_VERSION } from '../../src/protocol/constants';
import { decodeFields, FrameBuilder, FrameReader } from '../../src/protocol/frame';
import { REPO_ROOT, Sandbox, WORKER_MAIN, WorkerProcess } from '../../src/sandbox/sandbox';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';
import { pamRun } from '../helpers/pam';
import { exchange } from '../helpers/raw-client';
import type { Plan, Report } from '../helpers/hostile-peer';

const NOBODY = 65534;
const HOSTILE = path.join(REPO_ROOT, 'dist/test/helpers/hostile-peer.js');
const CLIENT = path.join(REPO_ROOT, 'dist/test/helpers/pam-client-cli.js');
const MB = 1024 * 1024;
/** How much the worker's resident memory may grow under one hostile peer. */
const RSS_BOUND_KB = 20 * 1024;

let box: Sandbox;
let worker: WorkerProcess;

function request(op = Op.ACCOUNT, version?: number, argBytes = 0): Buffer {
  const b = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, op).text(Field.SERVICE, 'raw').bytes(Field.USER, Buffer.from('alice'));
  if (argBytes > 0) b.bytes(Field.ARG, Buffer.alloc(argBytes, 0x61));
  return b.build(version);
}

interface Peer {
  /** Resolves with the idle plan's "ready" line (connections open); other plans: at the end. */
  ready: Promise<void>;
  done: Promise<Report>;
}

function peer(plan: Plan, uid: number): Peer {
  const child = spawn(process.execPath, [HOSTILE, JSON.stringify(plan)], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let markReady = (): void => {};
  const ready = new Promise<void>((r) => { markReady = r; });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('"ready"')) markReady();
  });
  const done = new Promise<Report>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => {
      markReady();
      const last = out.trim().split('\n').pop() ?? '';
      try { resolve(JSON.parse(last) as Report); } catch { reject(new Error(`hostile peer said: ${out}`)); }
    });
  });
  return { ready, done };
}

function status(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no ${key} for ${pid}`);
  return Number(m[1]);
}

/** Runs `attack` and returns how far the worker's resident memory rose above where it stood
 * before, by the kernel's peak counter (reset first), so a short spike counts too. */
async function rssRise(w: WorkerProcess, attack: () => Promise<void>): Promise<{ beforeKb: number; peakKb: number; afterKb: number }> {
  const pid = w.child.pid as number;
  const beforeKb = status(pid, 'VmRSS');
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  await attack();
  return { beforeKb, peakKb: status(pid, 'VmHWM'), afterKb: status(pid, 'VmRSS') };
}

/** Real logins (root, through libpam and the module) every 200 ms until `until` settles. */
async function loginsDuring(until: Promise<unknown>): Promise<string[]> {
  const results: string[] = [];
  let over = false;
  void until.finally(() => { over = true; });
  while (!over) {
    results.push(String((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth));
    await new Promise((r) => setTimeout(r, 200));
  }
  results.push(String((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth));
  return results;
}

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`, 'socket_mode = 0660\nsocket_group = nogroup\nclient_timeout = 2\n');
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  worker = await box.startWorker(config);
});

afterAll(async () => {
  await box.cleanup();
});

describe('a peer streaming data cannot grow the worker', () => {
  // 16 KiB frames, four to a write.
  const frames = request(Op.ACCOUNT, undefined, 16 * 1024).toString('hex');

  test('a refused peer streaming 200 MB of valid frames: cut off at once, memory unmoved, logins keep working', async () => {
    let report: Report | undefined;
    let logins: string[] = [];
    const logFrom = worker.output.length;
    const rise = await rssRise(worker, async () => {
      const done = peer({ mode: 'stream', socket: box.socketPath, body: frames, bodyRepeat: 4, totalBytes: 200 * MB, maxMs: 40000 }, NOBODY).done;
      logins = await loginsDuring(done);
      report = await done;
    });
    console.log(`refused peer: ${JSON.stringify(report)}; worker RSS ${rise.beforeKb} kB before, peak ${rise.peakKb} kB, ${rise.afterKb} kB after`);
    expect(report?.bytes).toBeGreaterThanOrEqual(200 * MB);
    // Nothing is read after the ERROR: one connection gets no further than the socket buffer.
    expect(report?.maxPerConnection).toBeLessThan(MB);
    expect(rise.peakKb - rise.beforeKb).toBeLessThan(RSS_BOUND_KB);
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((r) => r === 'PAM_SUCCESS')).toBe(true);
    // Each of its connections was refused, yet the log got one line for them, not one each.
    expect(report?.connections).toBeGreaterThan(10);
    expect(worker.output.slice(logFrom).match(/ peer\.refused /g)).toHaveLength(1);
  });

  test.each([
    ['after an ERROR for another protocol version, valid frames', request(Op.ACCOUNT, PROTOCOL_VERSION + 1).toString('hex'), frames],
    ['garbage', '', Buffer.alloc(64 * 1024, 0xa5).toString('hex').slice(0, 32 * 1024)],
    ['an over-long frame', Buffer.from([0, PROTOCOL_VERSION, 0, 1, 0x7f, 0xff, 0xff, 0xff]).toString('hex'), frames],
    ['frames sent ahead of any question', request().toString('hex'), frames],
  ])('an allowed peer streaming 200 MB: %s', async (_what, lead, body) => {
    let report: Report | undefined;
    let logins: string[] = [];
    const rise = await rssRise(worker, async () => {
      const done = peer({ mode: 'stream', socket: box.socketPath, lead, body, bodyRepeat: 4, totalBytes: 200 * MB, maxMs: 40000 }, 0).done;
      logins = await loginsDuring(done);
      report = await done;
    });
    console.log(`allowed peer, ${_what}: ${JSON.stringify(report)}; worker RSS ${rise.beforeKb} kB before, peak ${rise.peakKb} kB, ${rise.afterKb} kB after`);
    expect(report?.bytes).toBeGreaterThanOrEqual(200 * MB);
    expect(report?.maxPerConnection).toBeLessThan(MB);
    expect(rise.peakKb - rise.beforeKb).toBeLessThan(RSS_BOUND_KB);
    expect(logins.every((r) => r === 'PAM_SUCCESS')).toBe(true);
  });
});

describe('deadlines', () => {
  test('a refused peer trickling a byte every 300 ms is closed at once, not kept open by its bytes', async () => {
    const report = await peer({ mode: 'trickle', socket: box.socketPath, intervalMs: 300, durationMs: 4000 }, NOBODY).done;
    expect(report.received).toBeGreaterThan(0); // the ERROR frame
    expect(report.closedAfterMs).not.toBeNull();
    expect(report.closedAfterMs).toBeLessThan(1500);
  });

  test('the request has one deadline from the first byte: pieces each in time but together late get TIMEOUT', async () => {
    // client_timeout = 2: twelve pieces 200 ms apart take 2.4 s.
    const req = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'raw').bytes(Field.USER, Buffer.from('alice'))
      .u32(Field.PASSWORD_FROM, PasswordFrom.PROMPT).bytes(Field.PASSWORD, Buffer.from('wonderland')).build();
    const slowly: Array<Buffer | number> = [];
    const step = Math.ceil(req.length / 12);
    for (let i = 0; i < req.length; i += step) slowly.push(200, req.subarray(i, i + step));
    const answers = await exchange(box.socketPath, slowly);
    expect(answers.map((a) => a.type)).toEqual(['ERROR']);
    expect(answers[0].error).toBe('TIMEOUT');
  });
});

describe('connection caps', () => {
  test('per uid and overall: the excess gets a no at once, one log line, and the others keep their share', async () => {
    const box2 = Sandbox.create();
    try {
      box2.writeUsers([{ login: 'alice', password: 'wonderland' }]);
      const config = box2.writeConfig(`[store]\npath = ${box2.dir}/users\n`,
        `socket_mode = 0660\nsocket_group = nogroup\nallowed_uids = 0 ${NOBODY}\nclient_timeout = 20\nmax_connections = 6\nmax_connections_per_uid = 4\n`);
      box2.service('smtp', [`auth required {module} ${box2.workerArg}`]);
      const w = await box2.startWorker(config);
      const login = async (): Promise<string> => String((await pamRun(box2, 'smtp', 'alice', ['wonderland'])).auth);
      const loginAsNobody = (): Promise<string> => new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLIENT, box2.pamDir, 'smtp', 'alice', 'wonderland'], { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        child.on('exit', () => resolve(out.trim()));
        child.on('error', reject);
      });
      expect(await loginAsNobody()).toBe('PAM_SUCCESS');

      // Connections that sent half a request: each holds its place until the worker's request
      // deadline (2 s from its accept) closes it, so what must happen while they are held runs
      // at once, side by side (a login that found a place free would answer PAM_SUCCESS).
      const full = request(Op.AUTHENTICATE);
      const halfway = full.subarray(0, full.length >> 1).toString('hex');
      const hold = (count: number, uid: number): Peer => peer({ mode: 'idle', socket: box2.socketPath, lead: halfway, count, holdMs: 4000 }, uid);
      // nobody holds its four; a fifth from nobody is turned away, root still gets in.
      const first = hold(4, NOBODY);
      await first.ready;
      expect(await Promise.all([loginAsNobody(), login()])).toEqual(['PAM_AUTHINFO_UNAVAIL', 'PAM_SUCCESS']);
      expect((await first.done).closedByWorker).toBe(4);
      // Four from nobody and two from root fill the six: root is turned away too.
      const [idleNobody, idleRoot] = [hold(4, NOBODY), hold(2, 0)];
      await Promise.all([idleNobody.ready, idleRoot.ready]);
      expect(await Promise.all([login(), loginAsNobody(), loginAsNobody()])).toEqual(Array(3).fill('PAM_AUTHINFO_UNAVAIL'));
      const limited = w.output.split('\n').filter((l) => / connections\.limited /.test(l));
      expect(limited).toHaveLength(1);
      expect(limited[0]).toMatch(/uid 65534 .*max_connections_per_uid = 4/);

      // The worker closes the idle ones at their deadline; then everyone is back.
      const reports = await Promise.all([idleNobody.done, idleRoot.done]);
      expect(reports.map((r) => r.closedByWorker)).toEqual([4, 2]);
      expect(await login()).toBe('PAM_SUCCESS');
      expect(await loginAsNobody()).toBe('PAM_SUCCESS');
    } finally {
      await box2.cleanup();
    }
  });

  test('PAM handles an application never ends cannot take the places of new logins', async () => {
    const box4 = Sandbox.create();
    try {
      box4.writeUsers([{ login: 'alice', password: 'wonderland' }]);
      const config = box4.writeConfig(`[store]\npath = ${box4.dir}/users\n`, 'max_connections_per_uid = 4\n');
      box4.service('smtp', [`auth required {module} ${box4.workerArg}`]);
      await box4.startWorker(config);
      // Successful authentications below the module whose connections are then left open, as
      // by an application that never calls pam_acct_mgmt nor pam_end.
      const frame = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'smtp')
        .bytes(Field.USER, Buffer.from('alice')).text(Field.ARG, 'try_first_pass').u32(Field.PASSWORD_FROM, PasswordFrom.EARLIER)
        .bytes(Field.PASSWORD, Buffer.from('wonderland')).build();
      const leak = (): Promise<{ sock: net.Socket; kept: boolean }> => new Promise((resolve, reject) => {
        const reader = new FrameReader();
        const sock = net.connect(box4.socketPath, () => sock.write(frame));
        sock.on('error', reject);
        sock.on('data', (d: Buffer) => {
          reader.push(d);
          const f = reader.next();
          if (f !== undefined) resolve({ sock, kept: decodeFields(f.payload).some((x) => x.tag === Field.KEEP_MS) });
        });
      });
      const leaked = [];
      for (let i = 0; i < 4; i++) leaked.push(await leak());
      try {
        // Two are kept (half of uid 0's four places), the others closed after their answer as
        // before the kept connection existed: new logins still find a place.
        expect(leaked.map((l) => l.kept)).toEqual([true, true, false, false]);
        expect((await pamRun(box4, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
      } finally {
        for (const l of leaked) l.sock.destroy();
      }
    } finally {
      await box4.cleanup();
    }
  });

  test('200 idle connections from root under a file limit of 128 hold real logins back for no more than a few seconds', async () => {
    const box3 = Sandbox.create();
    try {
      box3.writeUsers([{ login: 'alice', password: 'wonderland' }]);
      // Defaults for client_timeout (30 s) and the caps.
      const config = box3.writeConfig(`[store]\npath = ${box3.dir}/users\n`);
      box3.service('smtp', [`auth required {module} ${box3.workerArg}`]);
      const child = spawn('prlimit', ['--nofile=128:128', process.execPath, ...WORKER_NODE_FLAGS, WORKER_MAIN, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      const w = new WorkerProcess(child, box3.socketPath);
      try {
        await w.ready();
        const flood = peer({ mode: 'idle', socket: box3.socketPath, count: 200, holdMs: 12000 }, 0);
        await flood.ready;
        const started = Date.now();
        let first: number | undefined;
        while (first === undefined && Date.now() - started < 11000) {
          if ((await pamRun(box3, 'smtp', 'alice', ['wonderland'])).auth === 'PAM_SUCCESS') first = Date.now() - started;
          else await new Promise((r) => setTimeout(r, 250));
        }
        const report = await flood.done;
        console.log(`200 idle root connections, file limit 128: first real login through after ${first} ms; ${JSON.stringify(report)}`);
        // While the flood still holds its sockets open, the worker has let go of them.
        expect(first).toBeDefined();
        expect(first).toBeLessThan(5000);
        expect(report.closedByWorker).toBe(200);
      } finally {
        await w.stop();
      }
    } finally {
      await box3.cleanup();
    }
  });
});
