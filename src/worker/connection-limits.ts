// How many connections may be open at once, overall and per peer uid, so that idle or hostile
// peers cannot take every descriptor and leave the mail server's logins without a worker. A
// connection over a cap is answered with an ERROR at once and closed; the worker says so in
// one log line, then at most one line a minute with the count, however many are turned away.
import fs from 'fs';
import { Logger } from '../log/logger';
import { QuietEvent } from '../log/quiet-event';

export interface ConnectionCaps {
  maxConnections: number;
  maxPerUid: number;
}

/** Descriptors kept back from the connections: standard streams, the listening socket,
 * Node's own, the stores' database and directory connections. */
export const RESERVED_FILES = 64;

/** The soft limit on open files, from /proc/self/limits; undefined if it cannot be read or is
 * unlimited. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m === null || m[1] === 'unlimited' ? undefined : Number(m[1]);
}

/** The caps as configured, lowered so the connections leave RESERVED_FILES descriptors free:
 * a worker out of descriptors fails every login, the real ones too. */
export function effectiveCaps(configured: ConnectionCaps, fileLimit: number | undefined): ConnectionCaps & { lowered: boolean } {
  const room = fileLimit === undefined ? Infinity : Math.max(1, fileLimit - RESERVED_FILES);
  const maxConnections = Math.min(configured.maxConnections, room);
  return { maxConnections, maxPerUid: Math.min(configured.maxPerUid, maxConnections), lowered: maxConnections < configured.maxConnections };
}

export class ConnectionLimits {
  private total = 0;
  private readonly perUid = new Map<number, number>();
  private readonly limited: QuietEvent;

  constructor(
    /** The caps in force now (they change on reload). */
    private readonly caps: () => ConnectionCaps,
    logger: Logger,
  ) {
    this.limited = new QuietEvent(logger, 'warning', 'connections.limited');
  }

  /** Takes a place for a connection of `uid`: a function that gives it back (call it when
   * the connection has closed), or why there is none. */
  take(uid: number): { ok: true; release: () => void } | { ok: false; why: string } {
    const caps = this.caps();
    const mine = this.perUid.get(uid) ?? 0;
    let why: string | undefined;
    if (mine >= caps.maxPerUid) why = `uid ${uid} has ${mine} connections open (max_connections_per_uid = ${caps.maxPerUid})`;
    else if (this.total >= caps.maxConnections) why = `${this.total} connections are open (max_connections = ${caps.maxConnections})`;
    if (why !== undefined) {
      this.limited.happened(why);
      return { ok: false, why };
    }
    this.total++;
    this.perUid.set(uid, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perUid.get(uid) ?? 1) - 1;
        if (left > 0) this.perUid.set(uid, left);
        else this.perUid.delete(uid);
      },
    };
  }

  /** Whether a connection of `uid` (counted already) may stay open after its authentication,
   * for the account request: only while the uid holds at most half its places and the worker
   * at most half of all. Connections kept for PAM handles an application never ends (each
   * up to 5 s) thus cannot take the places of new logins; a success then closes as before. */
  roomToKeep(uid: number): boolean {
    const caps = this.caps();
    return (this.perUid.get(uid) ?? 0) <= caps.maxPerUid / 2 && this.total <= caps.maxConnections / 2;
  }
}
