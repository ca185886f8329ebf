// The worker's end of one module connection: whole frames in, with a deadline for each, and
// frames out. A peer that trickles bytes still has only clientTimeoutMs to complete a frame.
import net from 'net';
import { FrameError, FrameReader } from '../protocol/frame';
import { KeptConnections } from './kept-connections';

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

  /** The next frame, or undefined when the module closes the connection, sends nothing within
   * timeoutMs, or the worker stops: the ends of a kept connection that was not used. */
  async nextIfAny(timeoutMs: number, kept: KeptConnections): Promise<RawFrame | undefined> {
    if (kept.stopped) return undefined;
    let cancel = (): void => {};
    const abandoned = new Promise<undefined>((resolve) => { cancel = kept.wait(() => resolve(undefined)); });
    try {
      return await Promise.race([this.next(timeoutMs), abandoned]);
    } catch (e) {
      if (e instanceof FrameError) throw e;
      return undefined;
    } finally {
      cancel();
    }
  }

  send(frame: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  /** Sends a last frame (or none) and closes, wiping what is still buffered. The module may
   * still be writing (a refused peer sends its REQUEST after our ERROR), so our side ends
   * first and the socket goes when the module closes, or after a second. */
  close(last?: Buffer): void {
    this.wipe();
    if (this.socket.destroyed) return;
    if (last !== undefined) this.socket.write(last);
    this.endSoon();
  }

  /** Sends the RESULT that ends a whole request and closes. The module sends nothing after
   * its request but answers to us, so when the frame went out whole it is in the module's
   * receive buffer, which outlives our end: close now, rather than be woken by its close. */
  finish(result: Buffer): void {
    this.wipe();
    if (this.socket.destroyed) return;
    this.socket.write(result);
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.endSoon();
  }

  /** Ends our side; the socket goes when the module closes its side, or after a second. */
  private endSoon(): void {
    this.socket.end();
    this.socket.setTimeout(1000, () => this.socket.destroy());
  }

  private wipe(): void {
    this.reader.wipe();
    for (const f of this.frames) f.payload.fill(0);
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
