// Property-style fuzzing of a live worker at its socket: random bytes and mutations of valid
// frames. The worker must never crash, never answer SUCCESS (no user in its store can match),
// and still serve a real request afterwards.
import crypto from 'crypto';
import { Field, MessageType, Op, PasswordFrom } from '../../src/protocol/constants';
import { FrameBuilder } from '../../src/protocol/frame';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';
import { exchange } from '../helpers/raw-client';

// Deterministic randomness, so a failure can be replayed: the seed is printed on failure.
const SEED = Number(process.env.PAM_MAPI_FUZZ_SEED ?? 20261123);
let state = SEED;
function rand(n: number): number {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state % n;
}

function validFrames(): Buffer[] {
  const req = (op: number, user: string, args: string[], from?: number, password?: string): Buffer => {
    const b = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, op).text(Field.SERVICE, 'fuzz').text(Field.USER, user);
    for (const a of args) b.text(Field.ARG, a);
    if (from !== undefined) b.u32(Field.PASSWORD_FROM, from);
    if (password !== undefined) b.bytes(Field.PASSWORD, Buffer.from(password));
    return b.build();
  };
  return [
    req(Op.AUTHENTICATE, 'nobody-here', ['try_first_pass'], PasswordFrom.EARLIER, 'pw'),
    req(Op.ACCOUNT, 'nobody-here', ['service=imap']),
    req(Op.AUTHENTICATE, 'x', ['use_first_pass', 'debug'], PasswordFrom.NONE),
    req(Op.AUTHENTICATE, 'nobody-here', [], PasswordFrom.PROMPT, 'pw'),
    req(Op.AUTHENTICATE, 'nobody-here', [], PasswordFrom.CONV_FAILED),
  ];
}

function mutate(frame: Buffer): Buffer {
  const b = Buffer.from(frame);
  const kind = rand(5);
  if (kind === 0) for (let i = 0; i < 1 + rand(4); i++) b[rand(b.length)] = rand(256); // flip bytes
  if (kind === 1) return b.subarray(0, rand(b.length)); // truncate
  if (kind === 2) return Buffer.concat([b, crypto.randomBytes(rand(64))]); // trailing junk
  if (kind === 3) { b.writeUInt32BE(rand(0x20000), 4); return b; } // lie about the length
  if (kind === 4 && b.length > 11) { b.writeUInt16BE(rand(0x10000), 9); return b; } // a field length
  return b;
}

let box: Sandbox;
let worker: WorkerProcess;
beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`, 'client_timeout = 0.5\n');
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  worker = await box.startWorker(config);
});
afterAll(async () => {
  await box.cleanup();
});

test(`1500 random and mutated frames (seed ${SEED}): no crash, no SUCCESS, still serving`, async () => {
  const seeds = validFrames();
  const answers: string[] = [];
  for (let round = 0; round < 150; round++) {
    const batch = Array.from({ length: 10 }, (_, i) => {
      const input = (round + i) % 4 === 0 ? crypto.randomBytes(rand(200)) : mutate(seeds[rand(seeds.length)]);
      return exchange(box.socketPath, [input], 5000).then((a) => a.map((x) => x.result ?? x.error ?? x.type).join(','));
    });
    answers.push(...(await Promise.all(batch)));
  }
  expect(answers).toHaveLength(1500);
  expect(answers.filter((a) => a.includes('SUCCESS'))).toEqual([]);
  expect(worker.child.exitCode).toBeNull();
  expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
  // Every input got an answer or a close; the kinds seen, for the record:
  const kinds = new Map<string, number>();
  for (const a of answers) kinds.set(a || '(closed)', (kinds.get(a || '(closed)') ?? 0) + 1);
  expect(kinds.size).toBeGreaterThan(2);
}, 120000);
