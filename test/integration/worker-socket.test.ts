// The worker at its socket: what the module would never send, from a peer that is allowed,
// from one that is not, and a module facing a process that squats the socket path.
import { execFileSync, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { Field, MessageType, Op, PasswordFrom, PROTOCOL_VERSION } from '../../src/protocol/constants';
import { FrameBuilder } from '../../src/protocol/frame';
import { REPO_ROOT, Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';
import { exchange } from '../helpers/raw-client';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const NOBODY = 65534;
let box: Sandbox;
let worker: WorkerProcess;

function request(user: Buffer, op = Op.ACCOUNT, version?: number): Buffer {
  return new FrameBuilder(MessageType.REQUEST).u32(Field.OP, op).text(Field.SERVICE, 'raw').bytes(Field.USER, user).build(version);
}

/** An authentication REQUEST as the module sends it: the password from libpam with it. */
function authRequest(user: Buffer, password: Buffer | null, from = PasswordFrom.PROMPT, args: string[] = []): Buffer {
  const b = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'raw').bytes(Field.USER, user);
  for (const a of args) b.text(Field.ARG, a);
  b.u32(Field.PASSWORD_FROM, from);
  if (password !== null) b.bytes(Field.PASSWORD, password);
  return b.build();
}

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`, 'socket_mode = 0660\nsocket_group = nogroup\nclient_timeout = 1\n');
  box.service('smtp', [`auth required {module} ${box.workerArg}`, `account required {module} ${box.workerArg}`]);
  worker = await box.startWorker(config);
});

afterAll(async () => {
  await box.cleanup();
});

async function stillServes(): Promise<void> {
  const answers = await exchange(box.socketPath, [request(Buffer.from('alice'))]);
  expect(answers).toEqual([{ version: PROTOCOL_VERSION, type: 'RESULT', result: 'SUCCESS', text: undefined, error: undefined }]);
}

describe('frames the module never sends', () => {
  test('another protocol version gets an explicit ERROR naming both versions', async () => {
    for (const other of [PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1]) {
      const answers = await exchange(box.socketPath, [request(Buffer.from('alice'), Op.ACCOUNT, other)]);
      expect(answers).toHaveLength(1);
      expect(answers[0]).toMatchObject({ type: 'ERROR', error: 'VERSION' });
      expect(answers[0].text).toContain(`version ${PROTOCOL_VERSION}, the module ${other}`);
    }
    await stillServes();
  });
  test('an over-long frame is refused before it is read', async () => {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(PROTOCOL_VERSION, 0); head.writeUInt16BE(MessageType.REQUEST, 2); head.writeUInt32BE(10_000_000, 4);
    expect(await exchange(box.socketPath, [head])).toMatchObject([{ type: 'ERROR', error: 'TOO_LARGE' }]);
    await stillServes();
  });
  test('another version announcing more than the size limit still gets VERSION (found by fuzzing: it once looped)', async () => {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(PROTOCOL_VERSION + 1, 0); head.writeUInt16BE(MessageType.REQUEST, 2); head.writeUInt32BE(200_000, 4);
    expect(await exchange(box.socketPath, [head])).toMatchObject([{ type: 'ERROR', error: 'VERSION' }]);
    await stillServes();
  });
  test('an authentication is one REQUEST carrying the password and one RESULT, whatever the options', async () => {
    const alice = Buffer.from('alice');
    const types = async (frame: Buffer): Promise<string[]> => (await exchange(box.socketPath, [frame])).map((a) => (a.type === 'RESULT' ? `RESULT ${a.result}` : `${a.type} ${a.error}`));
    expect(await types(authRequest(alice, Buffer.from('wonderland')))).toEqual(['RESULT SUCCESS']);
    expect(await types(authRequest(alice, Buffer.from('wonderland'), PasswordFrom.EARLIER, ['try_first_pass']))).toEqual(['RESULT SUCCESS']);
    expect(await types(authRequest(alice, Buffer.from('not-it'), PasswordFrom.EARLIER, ['use_first_pass']))).toEqual(['RESULT AUTH_ERR']);
    // No password: libpam found no token under use_first_pass, or the conversation failed.
    expect(await types(authRequest(alice, null, PasswordFrom.NONE, ['use_first_pass']))).toEqual(['RESULT AUTH_ERR']);
    expect(await types(authRequest(alice, null, PasswordFrom.CONV_FAILED))).toEqual(['RESULT CONV_ERR']);
    // What the module never sends: no PASSWORD_FROM, a password it says it does not have, none
    // where it says it has one, an unknown source, a password with an account request.
    const plain = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.AUTHENTICATE).bytes(Field.USER, alice).bytes(Field.PASSWORD, Buffer.from('wonderland')).build();
    expect(await types(plain)).toEqual(['ERROR MALFORMED']);
    expect(await types(authRequest(alice, Buffer.from('wonderland'), PasswordFrom.NONE))).toEqual(['ERROR MALFORMED']);
    expect(await types(authRequest(alice, null, PasswordFrom.PROMPT))).toEqual(['ERROR MALFORMED']);
    expect(await types(authRequest(alice, Buffer.from('wonderland'), 99))).toEqual(['ERROR MALFORMED']);
    const account = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.ACCOUNT).bytes(Field.USER, alice).u32(Field.PASSWORD_FROM, PasswordFrom.PROMPT).bytes(Field.PASSWORD, Buffer.from('wonderland')).build();
    expect(await types(account)).toEqual(['ERROR MALFORMED']);
  });
  test('a truncated field is MALFORMED', async () => {
    const frame = Buffer.from([0, PROTOCOL_VERSION, 0, MessageType.REQUEST, 0, 0, 0, 4, Field.OP, 0, 9, 1]);
    expect(await exchange(box.socketPath, [frame])).toMatchObject([{ type: 'ERROR', error: 'MALFORMED' }]);
  });
  test('a peer sending byte by byte too slowly is cut off after client_timeout', async () => {
    const frame = request(Buffer.from('alice'));
    const slow: Array<Buffer | number> = [];
    for (const byte of frame) slow.push(Buffer.from([byte]), 150);
    const started = Date.now();
    const answers = await exchange(box.socketPath, slow);
    expect(answers).toMatchObject([{ type: 'ERROR', error: 'TIMEOUT' }]);
    expect(Date.now() - started).toBeLessThan(frame.length * 150);
    await stillServes();
  });
  test('invalid UTF-8 and NUL in user names: PAM_USER_UNKNOWN without a store lookup', async () => {
    for (const user of [Buffer.from([0x61, 0xc3, 0x28]), Buffer.from('ali\0ce'), Buffer.alloc(0)]) {
      expect(await exchange(box.socketPath, [request(user)])).toMatchObject([{ type: 'RESULT', result: 'USER_UNKNOWN' }]);
    }
  });
  test('a password with a NUL byte is refused', async () => {
    const answers = await exchange(box.socketPath, [authRequest(Buffer.from('alice'), Buffer.from('wonderland\0x'))]);
    expect(answers.map((a) => a.type)).toEqual(['RESULT']);
    expect(answers[0].result).toBe('AUTH_ERR');
  });
  test('a second authentication on the connection of a successful one is an ERROR', async () => {
    // Only the account request of the same transaction may follow (the kept connection).
    const req = authRequest(Buffer.from('alice'), Buffer.from('wonderland'));
    const answers = await exchange(box.socketPath, [Buffer.concat([req, req])]);
    expect(answers.map((a) => a.type)).toEqual(['RESULT', 'ERROR']);
    expect(answers[1].error).toBe('UNEXPECTED');
  });
});

describe('peers', () => {
  const clientScript = path.join(REPO_ROOT, 'dist/test/helpers/pam-client-cli.js');

  function runAsNobody(extraEnv: Record<string, string> = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [clientScript, box.pamDir, 'smtp', 'alice', 'wonderland'], {
        uid: NOBODY, gid: NOBODY, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', () => resolve(out.trim()));
      child.on('error', reject);
    });
  }

  test('a process whose uid and gid are not allowed is refused: PAM_AUTHINFO_UNAVAIL', async () => {
    // nobody reaches the socket (socket_group nogroup, mode 0660); SO_PEERCRED must still refuse it.
    const mark = syslogMark();
    expect(await runAsNobody()).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(worker.output).toMatch(/peer.refused .*uid 65534 gid 65534/);
    expect(moduleLines(await syslogSince(mark, 150, 'any'), 'refused the request')[0]).toMatch(/may not ask the worker/);
    // Root, allowed, still gets in.
    expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
  });

  test('allowed_groups admits a member by a supplementary group, and only such a member', async () => {
    const box2 = Sandbox.create();
    try {
      box2.writeUsers([{ login: 'alice', password: 'wonderland' }]);
      // gid 8 is "mail" on Debian; the client keeps nogroup as its primary group.
      const config = box2.writeConfig(`[store]\npath = ${box2.dir}/users\n`, 'socket_mode = 0660\nsocket_group = nogroup\nallowed_groups = 8\n');
      box2.service('smtp', [`auth required {module} ${box2.workerArg}`]);
      await box2.startWorker(config);
      const run = (groups: string): string => execFileSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--groups', groups,
        process.execPath, clientScript, box2.pamDir, 'smtp', 'alice', 'wonderland'], { encoding: 'utf8' }).trim();
      expect(run(`${NOBODY},8`)).toBe('PAM_SUCCESS');
      expect(run(String(NOBODY))).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      await box2.cleanup();
    }
  });

  test('a process squatting the socket path gets nothing: socket not owned by root', async () => {
    const squatDir = fs.mkdtempSync(path.join(box.dir, 'squat-'));
    fs.chownSync(squatDir, NOBODY, NOBODY);
    const sock = path.join(squatDir, 'worker.sock');
    const got = path.join(squatDir, 'received');
    const squatter = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      require('net').createServer((c) => { fs.appendFileSync(${JSON.stringify(got)}, 'connection\\n');
        c.on('data', (d) => fs.appendFileSync(${JSON.stringify(got)}, 'bytes ' + d.length + '\\n')); }).listen(${JSON.stringify(sock)}, () => console.log('up'));`],
    { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => squatter.stdout.once('data', r));
      box.service('squat', [`auth required {module} worker=${sock}`]);
      const mark = syslogMark();
      expect((await pamRun(box, 'squat', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
      expect(moduleLines(await syslogSince(mark), sock)[0]).toMatch(/not a socket owned by root or pam-mapi \(owner uid 65534\)/);
      expect(fs.existsSync(got)).toBe(false);

      // Now the file is root's but the process behind it is not: SO_PEERCRED catches it.
      fs.chownSync(sock, 0, 0);
      const mark2 = syslogMark();
      const r = await pamRun(box, 'squat', 'alice', ['wonderland']);
      expect(r.auth).toBe('PAM_AUTHINFO_UNAVAIL');
      // libpam prompted before the module connected; the password went nowhere (below).
      expect(r.raw.prompts).toHaveLength(1);
      expect(moduleLines(await syslogSince(mark2), sock)[0]).toMatch(/runs as uid 65534, not root/);
      await new Promise((res) => setTimeout(res, 100));
      expect(fs.readFileSync(got, 'utf8')).toBe('connection\n'); // connected, but not one byte sent
    } finally {
      squatter.kill();
    }
  });

  test('a socket path that is not a socket is refused', async () => {
    const file = box.file('not-a-socket', 'x', 0o600);
    box.service('notsock', [`auth required {module} worker=${file}`]);
    expect((await pamRun(box, 'notsock', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
  });

  test('the socket is created with the configured mode, owner and group', () => {
    expect(fs.statSync(box.socketPath).mode & 0o777).toBe(0o660);
    expect(execFileSync('stat', ['-c', '%U:%G', box.socketPath], { encoding: 'utf8' }).trim()).toBe('root:nogroup');
  });
});
