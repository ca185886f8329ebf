// The kept connection (docs/protocol.md, section 5a): after a successful authentication the
// account request of the same PAM transaction goes over the same connection and is answered
// from the store's record the authentication just read, with the account line's own rules.
// Through real libpam, the built pam_mapi.so and real workers.
import fs from 'fs';
import net from 'net';
import path from 'path';
import { decodeFields, FrameBuilder, FrameReader } from '../../src/protocol/frame';
import { Field, MessageType, Op, PasswordFrom, Result } from '../../src/protocol/constants';
import { MAX_KEPT_CONNECTIONS } from '../../src/worker/kept-connections';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { ActivatedWorker } from '../helpers/activated-worker';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

// One user per test that reads the worker's log, so no test counts another's lines.
const USERS = [
  { login: 'alice', password: 'wonderland' },
  { login: 'bob', password: 'builder', enabled: ['imap'] },
  { login: 'carol', password: 'christmas' },
  { login: 'dave', password: 'diver-down' },
];

interface RequestLine {
  op: string;
  user: string;
  result: string;
  reused: boolean;
  conn: string | undefined;
}

/** The requests of the worker's `request` lines (an authentication and the account request on
 * its connection share one line: its account= fields), with the connection number of their
 * `request.start` line. */
function requests(log: string, user: string): RequestLine[] {
  const out: RequestLine[] = [];
  let conn: string | undefined;
  for (const line of log.split('\n')) {
    if (!line.includes(` user=${user} `) && !line.endsWith(` user=${user}`)) continue;
    const start = / request\.start .*conn=(\d+)/.exec(line);
    if (start !== null) { conn = start[1]; continue; }
    const m = / request op=(\S+) .*result=(\S+)/.exec(line);
    const account = / account=(\S+)/.exec(line);
    if (m !== null) out.push({ op: m[1], user, result: m[2], reused: account === null && / reused=yes/.test(line), conn });
    if (account !== null) out.push({ op: 'account', user, result: account[1], reused: / reused=yes/.test(line), conn });
  }
  return out;
}

/** A sandbox with USERS in a file store; `stores` replaces the default [store] section, `worker`
 * adds keys to [worker]. Returns it with the config's path, for a worker to be started on. */
function fileStoreBox(stores?: (box: Sandbox) => string, worker = ''): { box: Sandbox; config: string } {
  const box = Sandbox.create();
  box.writeUsers(USERS);
  const config = box.writeConfig(stores?.(box) ?? `[store]\ntype = file\npath = ${box.dir}/users\n`, worker);
  return { box, config };
}

/** The worker logs a request right after its answer: wait for the line. */
async function logged(output: () => string, user: string, count: number): Promise<RequestLine[]> {
  const until = Date.now() + 5000;
  for (;;) {
    const lines = requests(output(), user);
    if (lines.length >= count || Date.now() > until) return lines;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('one connection for auth and account, answered from the authentication', () => {
  let box: Sandbox;
  let worker: WorkerProcess;

  beforeAll(async () => {
    let config: string;
    ({ box, config } = fileStoreBox((b) => `[store]\ntype = file\npath = ${b.dir}/users\ndisabled_features = imap pop3\n\n[store.other]\ntype = file\npath = ${b.dir}/users\n`));
    const w = box.workerArg;
    // As pam.d-examples/smtp: the account line has other arguments than the auth line.
    box.service('smtp', [`auth required {module} try_first_pass ${w}`, `account required {module} ${w}`]);
    box.service('acct-imap', [`auth required {module} ${w}`, `account required {module} service=imap ${w}`]);
    box.service('two-stores', [`auth required {module} store=other ${w}`, `account required {module} ${w}`]);
    worker = await box.startWorker(config, ['--debug']);
  });

  afterAll(async () => {
    await box.cleanup();
  });

  test('the account request shares the connection and is answered without a second store read', async () => {
    const r = await pamRun(box, 'smtp', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const lines = await logged(() => worker.output, 'alice', 2);
    expect(lines.map((l) => [l.op, l.result, l.reused])).toEqual([['authenticate', 'PAM_SUCCESS', false], ['account', 'PAM_SUCCESS', true]]);
    expect(lines[0].conn).toBeDefined();
    expect(lines[1].conn).toBe(lines[0].conn);
  });

  test("the account line's own rules still run on the reused record (service=imap there)", async () => {
    const r = await pamRun(box, 'acct-imap', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_PERM_DENIED']);
    const bob = await pamRun(box, 'acct-imap', 'bob', ['builder'], { account: true });
    expect([bob.auth, bob.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect((await logged(() => worker.output, 'alice', 4)).filter((l) => l.op === 'account').map((l) => [l.result, l.reused])).toContainEqual(['PAM_PERM_DENIED', true]);
  });

  test('another store on the account line: the store is read, not the other store\'s record', async () => {
    const r = await pamRun(box, 'two-stores', 'carol', ['christmas'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const lines = await logged(() => worker.output, 'carol', 2);
    expect(lines.map((l) => [l.op, l.reused])).toEqual([['authenticate', false], ['account', false]]);
    expect(lines[1].conn).toBe(lines[0].conn);
  });

  test('a failed authentication keeps nothing: the account call opens its own connection and reads the store', async () => {
    const r = await pamRun(box, 'smtp', 'dave', ['not-the-password'], { account: true });
    expect(r.auth).toBe('PAM_AUTH_ERR');
    // pamRun stops at the first failure, so ask for account alone, in a new transaction.
    const acct = await pamRun(box, 'smtp', 'dave', [], { accountOnly: true });
    expect(acct.account).toBe('PAM_SUCCESS');
    const lines = await logged(() => worker.output, 'dave', 2);
    expect(lines.map((l) => [l.op, l.reused])).toEqual([['authenticate', false], ['account', false]]);
    expect(lines[1].conn).not.toBe(lines[0].conn);
  });

  test('a record is never carried into another transaction: a user locked after one login is refused at the next', async () => {
    const users = path.join(box.dir, 'users');
    const first = await pamRun(box, 'smtp', 'bob', ['builder'], { account: true });
    expect([first.auth, first.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const original = fs.readFileSync(users, 'utf8');
    try {
      box.writeUsers(USERS.map((u) => (u.login === 'bob' ? { ...u, locked: true } : u)));
      // The file store looks at its file at most once a second.
      await new Promise((r) => setTimeout(r, 1100));
      const acct = await pamRun(box, 'smtp', 'bob', [], { accountOnly: true });
      expect(acct.account).toBe('PAM_PERM_DENIED');
    } finally {
      fs.writeFileSync(users, original);
    }
  });
});

describe('kept connections are bounded', () => {
  let box: Sandbox;

  beforeAll(async () => {
    let config: string;
    // Caps above the kept bound, so it is this bound that bites (the defaults bite first).
    ({ box, config } = fileStoreBox(undefined, 'max_connections = 4096\nmax_connections_per_uid = 4096\n'));
    await box.startWorker(config);
  });

  afterAll(async () => {
    await box.cleanup();
  });

  /** A successful authentication below the module; resolves with its RESULT's KEEP_MS (or
   * undefined) and leaves the connection open, as a PAM handle that never ends would. */
  function authenticate(): Promise<{ sock: net.Socket; keepMs: number | undefined }> {
    const frame = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'smtp')
      .bytes(Field.USER, Buffer.from('alice')).text(Field.ARG, 'try_first_pass').u32(Field.PASSWORD_FROM, PasswordFrom.EARLIER)
      .bytes(Field.PASSWORD, Buffer.from('wonderland')).build();
    return new Promise((resolve, reject) => {
      const reader = new FrameReader();
      const sock = net.connect(box.socketPath, () => sock.write(frame));
      sock.on('error', reject);
      sock.on('data', (d: Buffer) => {
        reader.push(d);
        const f = reader.next();
        if (f === undefined) return;
        const keep = decodeFields(f.payload).find((x) => x.tag === Field.KEEP_MS);
        resolve({ sock, keepMs: keep?.value.readUInt32BE(0) });
      });
    });
  }

  test(`at most ${MAX_KEPT_CONNECTIONS} wait for an account request; then a success closes as before`, async () => {
    const open: net.Socket[] = [];
    try {
      const kept: Array<number | undefined> = [];
      for (let i = 0; i < MAX_KEPT_CONNECTIONS + 2; i++) {
        const a = await authenticate();
        open.push(a.sock);
        kept.push(a.keepMs);
      }
      expect(kept.slice(0, MAX_KEPT_CONNECTIONS).every((k) => k === 5000)).toBe(true);
      expect(kept.slice(MAX_KEPT_CONNECTIONS)).toEqual([undefined, undefined]);
      // Closed by the module, they make room again.
      for (const s of open.splice(0)) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const again = await authenticate();
      open.push(again.sock);
      expect(again.keepMs).toBe(5000);
    } finally {
      for (const s of open) s.destroy();
    }
  }, 60000);
});

describe('a reload between the authentication and the account request', () => {
  let box: Sandbox;
  let worker: WorkerProcess;

  beforeAll(async () => {
    let config: string;
    ({ box, config } = fileStoreBox());
    worker = await box.startWorker(config);
  });

  afterAll(async () => {
    await box.cleanup();
  });

  /** Sends a frame on sock and resolves with the fields of the frame that answers it. */
  function ask(sock: net.Socket, reader: FrameReader, frame: Buffer): Promise<Map<number, Buffer>> {
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer): void => {
        reader.push(d);
        const f = reader.next();
        if (f === undefined) return;
        sock.off('data', onData);
        resolve(new Map(decodeFields(f.payload).map((x) => [x.tag, x.value])));
      };
      sock.on('data', onData);
      sock.once('error', reject);
      // A worker that closes the kept connection fails the test now, not at jest's timeout.
      sock.once('close', () => reject(new Error('the worker closed the connection before answering')));
      sock.write(frame);
    });
  }

  test('the account request on the kept connection is answered by the reloaded config, not the record of the old one', async () => {
    const sock = net.connect(box.socketPath);
    await new Promise((r) => sock.once('connect', r));
    const reader = new FrameReader();
    try {
      const auth = await ask(sock, reader, new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'smtp')
        .bytes(Field.USER, Buffer.from('alice')).u32(Field.PASSWORD_FROM, PasswordFrom.PROMPT).bytes(Field.PASSWORD, Buffer.from('wonderland')).build());
      expect(auth.get(Field.CODE)?.readUInt32BE(0)).toBe(Result.SUCCESS);
      expect(auth.get(Field.KEEP_MS)?.readUInt32BE(0)).toBe(5000);
      // The admin points the store at another file, where alice is locked, and reloads.
      const locked = box.writeUsers(USERS.map((u) => (u.login === 'alice' ? { ...u, locked: true } : u)), 'users-locked');
      box.writeConfig(`[store]\ntype = file\npath = ${locked}\n`);
      worker.signal('SIGHUP');
      expect(await worker.outputMatching(/ reloaded /)).toMatch(/ reloaded /);
      const account = await ask(sock, reader, new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.ACCOUNT).text(Field.SERVICE, 'smtp')
        .bytes(Field.USER, Buffer.from('alice')).build());
      expect(account.get(Field.CODE)?.readUInt32BE(0)).toBe(Result.PERM_DENIED);
    } finally {
      sock.destroy();
    }
  });
});

describe('account_reuse = 0', () => {
  let box: Sandbox;
  let worker: WorkerProcess;

  beforeAll(async () => {
    let config: string;
    ({ box, config } = fileStoreBox(undefined, 'account_reuse = 0\n'));
    box.service('smtp', [`auth required {module} try_first_pass ${box.workerArg}`, `account required {module} ${box.workerArg}`]);
    worker = await box.startWorker(config, ['--debug']);
  });

  afterAll(async () => {
    await box.cleanup();
  });

  test('the account request still shares the connection, but reads the store', async () => {
    const r = await pamRun(box, 'smtp', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    const lines = await logged(() => worker.output, 'alice', 2);
    expect(lines.map((l) => [l.op, l.reused])).toEqual([['authenticate', false], ['account', false]]);
    expect(lines[1].conn).toBe(lines[0].conn);
  });
});

describe('the worker goes away between pam_authenticate and pam_acct_mgmt (socket activation)', () => {
  let box: Sandbox;
  let worker: ActivatedWorker;

  beforeAll(async () => {
    let config: string;
    ({ box, config } = fileStoreBox());
    worker = new ActivatedWorker(box.socketPath, config);
    await worker.listening(1);
  });

  afterAll(async () => {
    await worker.stop();
    await box.cleanup();
  });

  // pam_exec runs in the account stack before pam_mapi's line: it has the activator restart
  // (SIGUSR1: SIGTERM, then a new worker) or crash (SIGUSR2: SIGKILL) the worker, so the kept
  // connection is closed when pam_mapi's account call comes.
  test.each([
    ['restarted (SIGTERM)', 'SIGUSR1', 2],
    ['killed (SIGKILL)', 'SIGUSR2', 3],
  ])('worker %s: the account call asks again on a new connection, with no error', async (_what, signal, generation) => {
    const service = `kept-${signal.toLowerCase()}`;
    const script = box.file(`${service}.sh`, `#!/bin/sh\nkill -${signal.slice(3)} ${worker.pid}\nsleep 0.3\n`, 0o755);
    box.service(service, [
      `auth required {module} try_first_pass ${box.workerArg}`,
      `account required pam_exec.so quiet ${script}`,
      `account required {module} ${box.workerArg}`,
    ]);
    const mark = syslogMark();
    const r = await pamRun(box, service, 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    await worker.listening(generation);
    // The new worker answered the account request (no reuse: a new connection).
    const answered = new RegExp(`request op=account service=${service} user=alice .*result=PAM_SUCCESS`);
    for (const until = Date.now() + 5000; !answered.test(worker.output) && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    expect(worker.output).toMatch(answered);
    expect(worker.output).not.toMatch(new RegExp(`request op=account service=${service} .*reused=yes`));
    expect(moduleLines(await syslogSince(mark), `${service}:`)).toEqual([]);
  });
});
