// The Node floor row: what Node itself costs behind pam_mapi.so. A real file-store worker
// answers one recorded transaction through a relay (the frames each way, in order); then a
// do-nothing Node server (node-floor-server.ts) replays the worker's frames to every
// transaction. Same module, same socket, same round trips as the protocol has today, whatever
// that is: nothing here counts them. `npm run bench` records from a file-store worker of the
// build it measures (start); bench/worker-cpu-ab.ts from one of the workers it compares
// (recordFrom).
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { HEADER_SIZE } from '../src/protocol/constants';
import { Sandbox } from '../src/sandbox/sandbox';
import { WORKER_NODE_FLAGS } from '../src/worker/node-flags';
import { Dialogue, frameKey } from './node-floor-dialogue';
import { runLoad } from './pam-load';
import { MapiStack, OTHER, Servers, Target } from './stacks';
import { Snapshot } from './snapshot';

/** Cuts whole frames out of a byte stream. */
function framer(onFrame: (f: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= HEADER_SIZE && buf.length >= HEADER_SIZE + buf.readUInt32BE(4)) {
      const size = HEADER_SIZE + buf.readUInt32BE(4);
      onFrame(Buffer.from(buf.subarray(0, size)));
      buf = buf.subarray(size);
    }
  };
}

/** One transaction of user 0 through a relay between the module and a running worker. */
async function record(box: Sandbox, module: string, workerSocket: string): Promise<Dialogue> {
  const dialogue: Dialogue = {};
  const relaySocket = path.join(box.dir, 'relay.sock');
  const relay = net.createServer((m) => {
    const w = net.connect(workerSocket);
    let last: string | null = null;
    m.on('data', framer((f) => {
      last = frameKey(f);
      dialogue[last] = { frames: [], close: false };
    }));
    m.on('data', (d: Buffer) => w.write(d));
    w.on('data', framer((f) => { if (last !== null) dialogue[last].frames.push(f.toString('base64')); }));
    w.on('data', (d: Buffer) => m.write(d));
    w.on('end', () => {
      if (last !== null) dialogue[last].close = true;
      m.end();
    });
    m.on('end', () => w.end());
    m.on('error', () => w.destroy());
    w.on('error', () => m.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(relaySocket, resolve));
  try {
    box.service('record', [`auth required ${module} worker=${relaySocket}`, `account required ${module} worker=${relaySocket}`]);
    const l = await runLoad({ confDir: box.pamDir, service: 'record', users: 1, clients: 1, count: 1, wrongEvery: 0 });
    if (l.ok !== 1) throw new Error('the Node floor: the recorded transaction did not succeed');
  } finally {
    await new Promise((r) => relay.close(r));
  }
  return dialogue;
}

export class NodeFloor {
  private constructor(
    private readonly box: Sandbox,
    private readonly child: ChildProcess,
    readonly dialogue: Dialogue,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get target(): Target {
    return { module: 'node_floor', confDir: this.box.pamDir, service: 'floor', processes: false, checksPassword: false };
  }

  /** The floor of a build, recorded from a fresh file-store worker of it. */
  static async start(s: Servers, build: Snapshot): Promise<NodeFloor> {
    const real = new MapiStack('mapi_file', s, 1, build);
    try {
      real.writeUsers(1);
      await real.restart();
      return await NodeFloor.recordFrom(build.module, real.box.socketPath);
    } finally {
      await real.cleanup();
    }
  }

  /** Records one transaction of user 0 (USER_PREFIX0 with userPassword(0)) through `module`
   * from the worker listening on workerSocket, then starts the server that replays it behind
   * the same module, in a sandbox of its own (pam.d service `floor`). */
  static async recordFrom(module: string, workerSocket: string): Promise<NodeFloor> {
    const box = Sandbox.create('pam_mapi-bench-floor-');
    let child: ChildProcess | null = null;
    try {
      const dialogue = await record(box, module, workerSocket);
      const file = path.join(box.dir, 'dialogue.json');
      fs.writeFileSync(file, JSON.stringify(dialogue));
      box.service('other', OTHER);
      box.service('floor', [`auth required ${module} ${box.workerArg}`, `account required ${module} ${box.workerArg}`]);
      const started = spawn(process.execPath, [...WORKER_NODE_FLAGS, path.join(__dirname, 'node-floor-server.js'), box.socketPath, file], { stdio: ['ignore', 'pipe', 'inherit'] });
      child = started;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the Node floor server did not start')), 10000);
        started.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
        started.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the Node floor server ended (${code})`)); });
      });
      return new NodeFloor(box, started, dialogue);
    } catch (e) {
      // Nothing left behind by a floor that did not come up.
      if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await box.cleanup();
      throw e;
    }
  }

  /** Round trips per transaction in the recording: frames the module sent that were answered. */
  get roundTrips(): number {
    return Object.values(this.dialogue).filter((a) => a.frames.length > 0).length;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await this.box.cleanup();
  }
}
