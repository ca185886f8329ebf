// How many connections may be open at once, overall and per peer uid, so that idle or hostile
// peers cannot take every descriptor and leave the mail server's logins without a worker. A
// connection over a cap is answered with an ERROR at once and closed; the worker says so in
// one log line, then at most one line a minute with the count, however many are turned away.
import fs from 'fs';
import { Logger } from '../log/logger';

export interface ConnectionCaps {
  maxConnections: number;
  maxPerUid: number;
}

/** Descriptors kept back from the connections: standard streams, the listening socket,
 * Node's own, the stores' database and directory connections. */
export const RESERVED_FILES = 64;

/** How long the worker stays quiet after a "connections.limited" line. */
export const LIMITED_LOG_INTERVAL_MS = 60_000;

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
  private quietUntil = 0;
  private turnedAway = 0;
  private lastWhy = '';
  private summary: NodeJS.Timeout | undefined;

  constructor(
    /** The caps in force now (they change on reload). */
    private readonly caps: () => ConnectionCaps,
    private readonly logger: Logger,
  ) {}

  /** Takes a place for a connection of `uid`: a function that gives it back (call it when
   * the connection has closed), or why there is none. */
  take(uid: number): { ok: true; release: () => void } | { ok: false; why: string } {
    const caps = this.caps();
    const mine = this.perUid.get(uid) ?? 0;
    let why: string | undefined;
    if (mine >= caps.maxPerUid) why = `uid ${uid} has ${mine} connections open (max_connections_per_uid = ${caps.maxPerUid})`;
    else if (this.total >= caps.maxConnections) why = `${this.total} connections are open (max_connections = ${caps.maxConnections})`;
    if (why !== undefined) {
      this.limited(why);
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

  /** The first refusal is logged at once; those within the next minute are only counted,
   * and the count is logged when the minute is over. */
  private limited(why: string): void {
    const now = performance.now();
    if (now >= this.quietUntil) {
      this.quietUntil = now + LIMITED_LOG_INTERVAL_MS;
      this.logger.log('warning', 'connections.limited', { why, refused: 1 });
      return;
    }
    this.turnedAway++;
    this.lastWhy = why;
    if (this.summary !== undefined) return;
    this.summary = setTimeout(() => {
      this.summary = undefined;
      const refused = this.turnedAway;
      this.turnedAway = 0;
      this.quietUntil = performance.now() + LIMITED_LOG_INTERVAL_MS;
      // refused= counts the connections turned away since the line before; why= is the last.
      this.logger.log('warning', 'connections.limited', { why: this.lastWhy, refused });
    }, this.quietUntil - now);
    this.summary.unref();
  }
}
