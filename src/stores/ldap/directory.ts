// The directory servers of one store, in the configured order: a request runs on the first
// server that works, over that server's one shared service connection (opened on first use,
// bound as bind_dn, opened again when it drops). A server that fails is skipped for a while,
// then tried first again, so service returns to the first server once it is back.
import { Fields, Level } from '../../log/logger';
import { Failover } from '../failover';
import { StoreUnavailableError } from '../store';
import { Connection, ConnectionOptions, DirectoryError } from './connection';
import { LdapServer } from './settings';

/** LDAP result codes that mean the server, not the question, is the problem. */
const SERVER_TROUBLE = [51, 52];

export interface ServiceAccount {
  dn: string;
  password: string;
}

interface Shared {
  ready: Promise<Connection>;
  /** Requests running on it; an idle lower-priority connection is closed. */
  users: number;
}

interface Server {
  server: LdapServer;
  shared: Shared | null;
}

export type Log = (level: Level, event: string, fields?: Fields) => void;

/** Waits for promise, or rejects when signal fires first. */
function until<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new DirectoryError(`gave up before ${what}`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DirectoryError(`no answer (${what})`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class Directory {
  private readonly servers: Failover<Server>;
  private closed = false;

  constructor(
    servers: readonly LdapServer[],
    readonly options: ConnectionOptions,
    private readonly service: ServiceAccount | null,
    log: Log,
  ) {
    this.servers = new Failover(servers.map((server): Server => ({ server, shared: null })), (s) => s.server.url, log);
  }

  /** Runs job on the first server that works. job's DirectoryErrors move on to the next server;
   * its other errors are answers and end the request. Once job has started on a connection it
   * is counted as a user of it until job ends. */
  async run<T>(signal: AbortSignal, job: (conn: Connection) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    const now = Date.now();
    const order = this.servers.order(now);
    let last: Error | undefined;
    for (const s of order) {
      // A server may close an idle connection just as a request starts on it (Active Directory
      // does after 15 minutes): that request gets one new connection to the same server.
      for (let retried = false; !signal.aborted;) {
        let shared: Shared | undefined;
        let reused = false;
        try {
          const got = await this.serviceConnection(s, signal);
          ({ shared, reused } = got);
          const result = await job(got.conn);
          this.servers.succeeded(s);
          this.closeIdleAfter(s);
          return result;
        } catch (e) {
          if (!(e instanceof DirectoryError)) throw e;
          if (e.dropped && reused && !retried) {
            retried = true;
            continue;
          }
          // A server that answers with a result code is up: noSuchObject from a wrong base or
          // insufficientAccess is the config's problem, the same on every replica. Only
          // busy (51) and unavailable (52) send the request on to the next server.
          if (e.resultCode !== undefined && !SERVER_TROUBLE.includes(e.resultCode)) {
            throw new StoreUnavailableError(e.message);
          }
          last = e;
          this.servers.failed(s, e.message, now);
          break;
        } finally {
          if (shared !== undefined) shared.users--;
        }
      }
    }
    throw new StoreUnavailableError(`no directory server could answer (${this.servers.describe()}): ${last?.message ?? 'timed out'}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.servers.hosts.map((s) => this.retire(s)));
  }

  /** The server's shared connection, opened (and bound) now when it has none or it dropped. */
  private async serviceConnection(s: Server, signal: AbortSignal): Promise<{ conn: Connection; shared: Shared; reused: boolean }> {
    // Twice at most: a connection that was dropped while we waited for it is replaced once.
    for (let attempt = 0; attempt < 2; attempt++) {
      let shared = s.shared;
      const reused = shared !== null;
      if (shared === null) {
        shared = { ready: this.openService(s.server), users: 0 };
        const mine = shared;
        s.shared = mine;
        mine.ready.catch(() => {
          if (s.shared === mine) s.shared = null;
        });
      }
      const conn = await until(shared.ready, signal, `connecting to ${s.server.url}`);
      if (conn.alive) {
        // Counted before anything else can run, so no one closes it as idle under us.
        shared.users++;
        return { conn, shared, reused };
      }
      if (s.shared === shared) s.shared = null;
    }
    throw new DirectoryError(`the connection to ${s.server.url} keeps dropping`);
  }

  /** Connects, and binds as the service account. Not tied to one request: others may be
   * waiting for it. */
  private async openService(server: LdapServer): Promise<Connection> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const conn = await Connection.open(server, this.options, signal);
    if (this.service !== null && !(await conn.bind(this.service.dn, this.service.password, signal))) {
      conn.close();
      throw new DirectoryError(`${server.url}: the service account ${this.service.dn} was refused (invalid credentials)`);
    }
    return conn;
  }

  /** After a success on s, servers after it in the order keep no idle connection. */
  private closeIdleAfter(s: Server): void {
    const all = this.servers.hosts;
    for (const later of all.slice(all.indexOf(s) + 1)) {
      if (later.shared !== null && later.shared.users === 0) void this.retire(later);
    }
  }

  private async retire(s: Server): Promise<void> {
    const shared = s.shared;
    if (shared === null) return;
    s.shared = null;
    try {
      (await shared.ready).close();
    } catch {
      // It never opened: nothing to close.
    }
  }
}
