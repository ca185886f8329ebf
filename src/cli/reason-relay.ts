// Stands between pam_mapi.so and the worker during one `pam-mapi check`: passes every byte
// through unchanged and reads the worker's answers for the lines the module would hand to
// syslog. That is where the module's reason lives (the RESULT frame's LOG fields), and libpam
// gives its caller no way to see it; reading it here needs no change to the module, the worker
// or the protocol, and shows whether the PAM stack reached pam_mapi at all.
import fs from 'fs';
import net from 'net';
import path from 'path';
import { peerCredentials } from '../worker/peer';
import { ErrorCode, Field, LogLevel, MessageType, nameOf } from '../protocol/constants';
import { decodeFields, FrameReader } from '../protocol/frame';

export interface Heard {
  level: string;
  text: string;
  /** Said by the relay itself (the module would have said it), not by the worker. */
  own?: boolean;
}

export class ReasonRelay {
  /** What the worker told the module to log, and any ERROR frame it sent, in order. */
  readonly heard: Heard[] = [];
  /** Connections pam_mapi.so made; 0 after a transaction: the stack never ran a pam_mapi line. */
  connections = 0;
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();

  private constructor(
    readonly path: string,
    readonly target: string,
    /** Who may own the worker's socket and serve it: what the module itself accepts. */
    private readonly trusted: readonly number[],
  ) {
    this.server = net.createServer((module) => this.relay(module));
  }

  /** Listens on `dir`/name; dir must be private to this process's user (root's, for the shim). */
  static async start(dir: string, name: string, target: string, trusted: readonly number[] = [0]): Promise<ReasonRelay> {
    const r = new ReasonRelay(path.join(dir, name), target, trusted);
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(r.path, () => resolve());
    });
    fs.chmodSync(r.path, 0o600);
    return r;
  }

  private relay(module: net.Socket): void {
    this.connections++;
    this.open.add(module);
    const refuse = (text: string): void => {
      this.heard.push({ level: 'ERR', text, own: true });
      module.destroy();
    };
    // The module checks the socket it talks to; here it talks to ours, so the relay makes the
    // module's checks on the real one before any byte (a password) goes there.
    let st: fs.Stats;
    try {
      st = fs.lstatSync(this.target);
    } catch (e) {
      refuse(`cannot reach the worker at ${this.target}: ${(e as Error).message}`);
      return;
    }
    if (!st.isSocket() || !this.trusted.includes(st.uid)) {
      refuse(`${this.target} is not a socket owned by root or the worker's user (uid ${st.uid}): refusing to talk to it`);
      return;
    }
    const worker = net.connect(this.target);
    this.open.add(worker);
    const reader = new FrameReader();
    worker.on('connect', () => {
      const fd = (worker as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
      let uid: number | null = null;
      try {
        uid = typeof fd === 'number' ? peerCredentials(fd).uid : null;
      } catch {
        uid = null;
      }
      if (uid === null || !this.trusted.includes(uid)) {
        worker.destroy();
        refuse(`the process serving ${this.target} runs as ${uid === null ? 'an unknown user' : `uid ${uid}`}, not root: refusing to talk to it`);
        return;
      }
      module.pipe(worker);
    });
    worker.on('data', (chunk: Buffer) => {
      module.write(chunk);
      // A copy: the reader wipes what it has read.
      this.read(reader, Buffer.from(chunk));
    });
    worker.on('end', () => module.end());
    worker.on('error', (e) => refuse(`cannot reach the worker at ${this.target}: ${e.message}`));
    module.on('error', () => worker.destroy());
    module.on('close', () => { worker.destroy(); reader.wipe(); this.open.delete(module); });
    worker.on('close', () => this.open.delete(worker));
  }

  private read(reader: FrameReader, chunk: Buffer): void {
    try {
      reader.push(chunk);
      for (let f = reader.next(); f !== undefined; f = reader.next()) {
        const fields = decodeFields(f.payload);
        if (f.type === MessageType.RESULT) {
          for (const l of fields.filter((x) => x.tag === Field.LOG && x.value.length > 0)) {
            this.heard.push({ level: String(nameOf(LogLevel, l.value[0]) ?? l.value[0]), text: l.value.subarray(1).toString('utf8') });
          }
        } else if (f.type === MessageType.ERROR) {
          const code = fields.find((x) => x.tag === Field.ERROR_CODE);
          const text = fields.find((x) => x.tag === Field.TEXT)?.value.toString('utf8') ?? '';
          this.heard.push({ level: 'ERR', text: `the worker refused the module: ${text} (${String(code?.value.length === 4 ? nameOf(ErrorCode, code.value.readUInt32BE(0)) : 'unknown')})` });
        }
      }
    } catch {
      // Not ours to judge: the module gets the same bytes and decides.
      reader.wipe();
    }
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
