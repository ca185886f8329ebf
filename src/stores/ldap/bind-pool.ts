// Connections kept for users' binds, so an authentication does not open a TCP (and TLS)
// connection of its own. They serve binds only: each bind replaces the identity the previous
// one left, nothing else runs on them, and the shared service connection keeps its own rights.
import { Connection, ConnectionOptions, DirectoryError } from './connection';
import { LdapServer } from './settings';

/** Idle connections kept per server; more concurrent binds open more, closed after use. */
const IDLE_PER_SERVER = 8;

export class BindPool {
  private readonly idle = new Map<string, Connection[]>();
  private closed = false;

  constructor(private readonly options: ConnectionOptions) {}

  /** A simple bind as dn on server: true for the right password, false for a wrong one. */
  async bind(server: LdapServer, dn: string, password: string, signal: AbortSignal): Promise<boolean> {
    // A kept connection the server closed while it was idle fails at once: then once more, on a
    // new connection.
    for (let attempt = 0; ; attempt++) {
      const kept = attempt === 0 ? this.take(server) : undefined;
      const conn = kept ?? (await Connection.open(server, this.options, signal));
      try {
        const ok = await conn.bind(dn, password, signal);
        this.give(server, conn);
        return ok;
      } catch (e) {
        conn.close();
        if (kept !== undefined && e instanceof DirectoryError && e.dropped) continue;
        throw e;
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const c of list.splice(0)) c.close();
  }

  private take(server: LdapServer): Connection | undefined {
    const list = this.idle.get(server.url) ?? [];
    for (let c = list.pop(); c !== undefined; c = list.pop()) {
      if (c.alive) return c;
      c.close();
    }
    return undefined;
  }

  private give(server: LdapServer, conn: Connection): void {
    const list = this.idle.get(server.url) ?? [];
    this.idle.set(server.url, list);
    if (this.closed || !conn.alive || list.length >= IDLE_PER_SERVER) conn.close();
    else list.push(conn);
  }
}
