// The worker's end of one module connection: whole frames in, each by a deadline the session
// sets, and frames out. What a peer can make the worker hold is bounded: bytes are taken from
// the socket only while the session waits for a frame (otherwise it is paused, and a peer
// that streams fills its own socket buffer), a frame is cut out only when asked for, and once
// the worker has said its last word (an ERROR or the RESULT) nothing more is read.
import net from 'net';
import { FrameError, FrameReader } from '../protocol/frame';
import { KeptConnections } from './kept-connections';
import { DeadlineEntry, deadlines } from './deadline-wheel';

export interface RawFrame {
  version: number;
  type: number;
  payload: Buffer;
}

export class PeerTimeoutError extends Error {}

/** The session waiting for a frame, and the deadline entry that ends its wait. */
interface Waiter {
  resolve: (f: RawFrame) => void;
  reject: (e: Error) => void;
  entry: DeadlineEntry;
}

/** By when the next frame must be complete (performance.now() time), and what to say if not. */
export interface Deadline {
  at: number;
  /** Completes "the module did not send ...". */
  what: string;
}

/** How long a closed connection waits for the module to close its side: after our last
 * frame it only reads that frame and closes, so this is for a peer that does neither. */
export const CLOSE_GRACE_MS = 1000;

export class FrameChannel {
  private readonly reader = new FrameReader();
  private failure: Error | null = null;
  private waiter: Waiter | null = null;
  /** Set once our last frame is out: from then on the peer's bytes are dropped, not read. */
  private closing = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.fail(new Error('the module closed the connection')));
    socket.on('error', (e: Error) => this.fail(e));
  }

  /** The next frame, which must be complete by the deadline: a peer that trickles bytes gets
   * no more time for it, however often it sends. */
  next(deadline: Deadline): Promise<RawFrame> {
    let ready: RawFrame | undefined;
    try {
      ready = this.reader.next();
    } catch (e) {
      this.fail(e as Error);
    }
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<RawFrame>((resolve, reject) => {
      // Timers run before the poll for input in Node's loop: after a long pause of the loop
      // a frame that is already there is read first (setImmediate runs after the poll).
      const entry = deadlines.add(deadline.at, () => setImmediate(() => {
        if (this.waiter !== w) return;
        this.waiter = null;
        reject(new PeerTimeoutError(`the module did not send ${deadline.what}`));
      }));
      const w: Waiter = { resolve, reject, entry };
      this.waiter = w;
      this.socket.resume();
    });
  }

  /** The next frame, or undefined when the module closes the connection, sends nothing by
   * the deadline, or the worker stops: the ends of a kept connection that was not used. */
  nextIfAny(deadline: Deadline, kept: KeptConnections): Promise<RawFrame | undefined> {
    if (kept.stopped) return Promise.resolve(undefined);
    // The worker's stop ends the wait as the module's close would: with no frame.
    const done = kept.wait(() => this.fail(new Error('the worker stops')));
    return this.next(deadline).then(
      (f) => { done(); return f; },
      (e: unknown) => {
        done();
        if (e instanceof FrameError) throw e;
        return undefined;
      },
    );
  }

  send(frame: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  /** Sends a last frame (or none) and closes, wiping what is still buffered. The module may
   * still be writing (a refused peer sends its REQUEST after our ERROR), so our side ends
   * first; the socket goes as soon as the module closes or sends anything more, or after
   * CLOSE_GRACE_MS, whichever comes first. The module reads our frame either way: it is in
   * the module's receive buffer, which outlives our end. */
  close(last?: Buffer): void {
    this.stopReading();
    if (this.socket.destroyed) return;
    if (last !== undefined) this.socket.write(last);
    this.endSoon();
  }

  /** Sends the RESULT that ends a whole request and closes. The module sends nothing after
   * its request but answers to us, so when the frame went out whole it is in the module's
   * receive buffer, which outlives our end: close now, rather than be woken by its close. */
  finish(result: Buffer): void {
    this.stopReading();
    if (this.socket.destroyed) return;
    this.socket.write(result);
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.endSoon();
  }

  /** Closes now, after a last frame if the socket takes it at once: for a connection turned
   * away before it holds anything (the caps), which must not linger either. */
  refuse(last: Buffer): void {
    this.stopReading();
    if (this.socket.destroyed) return;
    this.socket.write(last);
    this.socket.destroy();
  }

  /** Ends our side; the socket goes when the module closes its side or sends more (see
   * onData), or after CLOSE_GRACE_MS of wall time, not of silence: a byte now and then does
   * not keep it open. */
  private endSoon(): void {
    this.socket.end();
    const entry = deadlines.add(performance.now() + CLOSE_GRACE_MS, () => this.socket.destroy());
    this.socket.once('close', () => deadlines.cancel(entry));
  }

  private stopReading(): void {
    this.closing = true;
    this.reader.wipe();
    // Reading on only to see the module's close (or its next byte, which ends it too).
    this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) {
      // After our last frame the module has nothing left to say: whatever comes is dropped
      // unread, and ends the connection.
      chunk.fill(0);
      this.socket.destroy();
      return;
    }
    this.reader.push(chunk);
    if (this.waiter !== null) {
      let f: RawFrame | undefined;
      try {
        f = this.reader.next();
      } catch (e) {
        this.socket.pause();
        this.fail(e as Error);
        return;
      }
      if (f !== undefined) this.takeWaiter(this.waiter).resolve(f);
    }
    // The module never sends ahead of a question: what comes when nobody waits stays unread
    // (the socket paused) until the session asks.
    if (this.waiter === null) this.socket.pause();
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    if (this.waiter !== null) this.takeWaiter(this.waiter).reject(this.failure);
  }

  /** The waiter, no longer waiting: its deadline cancelled. */
  private takeWaiter(w: Waiter): Waiter {
    this.waiter = null;
    deadlines.cancel(w.entry);
    return w;
  }
}
