// How many frames a real PAM transaction costs on the socket: a relay between the built module
// and a real worker counts the frames each way, per connection. An authentication is one
// REQUEST and one RESULT (the module sends the password with its request); the account call of
// the same transaction is one more of each, on the kept connection.
import net from 'net';
import path from 'path';
import { MessageType, nameOf } from '../../src/protocol/constants';
import { FrameReader } from '../../src/protocol/frame';
import { Sandbox } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';

interface Seen {
  toWorker: string[];
  toModule: string[];
}

/** A root-owned socket served by this (root) process, which both the module's and the worker's
 * peer checks accept, forwarding bytes unchanged and naming every whole frame it sees. */
class FrameCounter {
  readonly connections: Seen[] = [];
  private readonly server: net.Server;

  private constructor(readonly socketPath: string, workerSocket: string) {
    this.server = net.createServer((module) => {
      const seen: Seen = { toWorker: [], toModule: [] };
      this.connections.push(seen);
      const worker = net.connect(workerSocket);
      const count = (into: string[]): ((d: Buffer) => void) => {
        const reader = new FrameReader();
        return (d) => {
          // A copy: the reader wipes what it has read, and these bytes go on to the other side.
          reader.push(Buffer.from(d));
          for (let f = reader.next(); f !== undefined; f = reader.next()) into.push(String(nameOf(MessageType, f.type) ?? f.type));
        };
      };
      module.on('data', count(seen.toWorker));
      worker.on('data', count(seen.toModule));
      module.pipe(worker);
      worker.pipe(module);
      module.on('error', () => worker.destroy());
      worker.on('error', () => module.destroy());
      module.on('close', () => worker.destroy());
      worker.on('close', () => module.end());
    });
  }

  static async start(socketPath: string, workerSocket: string): Promise<FrameCounter> {
    const c = new FrameCounter(socketPath, workerSocket);
    await new Promise<void>((resolve) => c.server.listen(socketPath, resolve));
    return c;
  }

  take(): Seen[] {
    return this.connections.splice(0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let box: Sandbox;
let counter: FrameCounter;

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  const config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\n`);
  await box.startWorker(config);
  counter = await FrameCounter.start(path.join(box.dir, 'counter.sock'), box.socketPath);
  const w = `worker=${counter.socketPath}`;
  box.service('prompt', [`auth required {module} ${w}`, `account required {module} ${w}`]);
  box.service('first', [`auth required {module} ${w}`, `auth required {module} use_first_pass ${w}`, `account required {module} ${w}`]);
  box.service('usefirst', [`auth required {module} use_first_pass ${w}`]);
});

afterAll(async () => {
  await counter?.close();
  await box.cleanup();
});

/** Waits until the relay has seen both ends of every connection close. */
async function settled(): Promise<Seen[]> {
  await new Promise((r) => setTimeout(r, 100));
  return counter.take();
}

describe('frames per PAM transaction', () => {
  test('prompted password, auth and account: one round trip each, on one connection', async () => {
    const r = await pamRun(box, 'prompt', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(r.raw.prompts).toHaveLength(1);
    expect(await settled()).toEqual([{ toWorker: ['REQUEST', 'REQUEST'], toModule: ['RESULT', 'RESULT'] }]);
  });

  test('wrong password: one REQUEST, one RESULT', async () => {
    expect((await pamRun(box, 'prompt', 'alice', ['wrong'])).auth).toBe('PAM_AUTH_ERR');
    expect(await settled()).toEqual([{ toWorker: ['REQUEST'], toModule: ['RESULT'] }]);
  });

  test('a later use_first_pass module with the token of the first: one round trip per module', async () => {
    const r = await pamRun(box, 'first', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(r.raw.prompts).toHaveLength(1);
    const seen = await settled();
    expect(seen.flatMap((s) => s.toWorker)).toEqual(['REQUEST', 'REQUEST', 'REQUEST']);
    expect(seen.flatMap((s) => s.toModule)).toEqual(['RESULT', 'RESULT', 'RESULT']);
  });

  test('use_first_pass without a token: one round trip, no prompt', async () => {
    const r = await pamRun(box, 'usefirst', 'alice', ['wonderland']);
    expect(r.auth).toBe('PAM_AUTH_ERR');
    expect(r.raw.prompts).toEqual([]);
    expect(await settled()).toEqual([{ toWorker: ['REQUEST'], toModule: ['RESULT'] }]);
  });
});
