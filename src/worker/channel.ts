// The worker's end of one module connection: whole frames in, with a deadline for each, and
// frames out. A peer that trickles bytes still has only clientTimeoutMs to complete a frame.
import net from 'net';
import { FrameReader } from '../protocol/frame';

export interface RawFrame {
  version: number;
  type: number;
  payload: Buffer;
}

export class PeerTimeoutError extends Error {}

export class FrameChannel {
  private readonly reader = new FrameReader();
  private readonly frames: RawFrame[] = [];
  private failure: Error | null = null;
  private waiter: { resolve: (f: RawFrame) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.fail(new Error('the module closed the connection')));
    socket.on('error', (e: Error) => this.fail(e));
  }

  next(timeoutMs: number): Promise<RawFrame> {
    const ready = this.frames.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<RawFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new PeerTimeoutError(`the module sent no complete frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (f) => { clearTimeout(timer); resolve(f); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  send(frame: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  /** Sends a last frame (or none) and closes, wiping what is still buffered. */
  close(last?: Buffer): void {
    this.reader.wipe();
    for (const f of this.frames) f.payload.fill(0);
    if (this.socket.destroyed) return;
    if (last !== undefined) this.socket.end(last);
    else this.socket.end();
    this.socket.setTimeout(1000, () => this.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    try {
      this.reader.push(chunk);
      for (let f = this.reader.next(); f !== undefined; f = this.reader.next()) this.frames.push(f);
    } catch (e) {
      this.socket.pause();
      this.fail(e as Error);
      return;
    }
    if (this.waiter !== null) {
      const f = this.frames.shift();
      if (f !== undefined) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(f);
      }
    }
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(this.failure);
    }
  }
}
