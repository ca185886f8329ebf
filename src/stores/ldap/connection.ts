// One connection to one directory server: TCP or TLS, StartTLS when asked, and the operations
// the store needs, each given up when the caller's signal fires.
//
// ldapts, asked for an operation on a connection that has dropped, silently opens a new one,
// without StartTLS and without the service account's bind, and sends the operation (for a
// user's bind: the password) over it. Each Connection therefore lets its client open exactly
// one socket; once that socket is gone the Connection is dead and the caller opens a new one.
import net from 'net';
import tls from 'tls';
import { Client, InvalidCredentialsError, ResultCodeError, SearchOptions } from 'ldapts';
import type { Entry } from 'ldapts';
import { LdapServer } from './settings';

/** The server did not answer as a working server does: try another, or give up. */
export class DirectoryError extends Error {
  /** The server closed the connection under the operation (as servers do with idle ones), as
   * opposed to not answering in time: a new connection to it may well work. */
  readonly dropped: boolean;
  /** The LDAP result code when the server answered with one (it is up, and said no). */
  readonly resultCode: number | undefined;

  constructor(message: string, options: { cause?: unknown; dropped?: boolean; resultCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DirectoryError';
    this.dropped = options.dropped ?? false;
    this.resultCode = options.resultCode;
  }
}

/** ldapts's messages for an operation whose connection closed under it. */
const DROPPED = /^(Connection closed before message response|Socket error)/;

export interface ConnectionOptions {
  startTls: boolean;
  tls: tls.ConnectionOptions;
  /** For each network step (connect, each operation). */
  timeoutMs: number;
}

export interface SearchAnswer {
  entries: Entry[];
}

/** Dead connections are noticed by the next request; keep-alive notices them in between. */
const KEEPALIVE_MS = 30_000;

/** The TLS options for a server, with its name for certificate checks (an IP address is checked
 * against the certificate's IP entries; SNI is only sent for names, as RFC 6066 asks). */
function tlsFor(server: LdapServer, base: tls.ConnectionOptions): tls.ConnectionOptions {
  return { ...base, host: server.host, servername: net.isIP(server.host) === 0 ? server.host : undefined };
}

/** Whether a client's one socket has been opened yet. */
interface SocketState {
  opened: boolean;
}

/** Socket factories for ldapts that open one socket and refuse a second. */
function oneSocket(server: LdapServer, options: ConnectionOptions, state: SocketState): { createConnection: typeof net.connect; createSecureConnection: typeof tls.connect } {
  const claim = (): void => {
    if (state.opened) throw new DirectoryError(`the connection to ${server.url} was lost`, { dropped: true });
    state.opened = true;
  };
  const plain = (): net.Socket => {
    claim();
    return net.connect({ host: server.host, port: server.port, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS });
  };
  const secure = (upgrade?: unknown): tls.TLSSocket => {
    // startTLS() passes its options with the existing socket: an upgrade, not a new socket.
    if (typeof upgrade === 'object' && upgrade !== null && (upgrade as tls.ConnectionOptions).socket !== undefined) {
      return tls.connect(upgrade as tls.ConnectionOptions);
    }
    claim();
    const s = tls.connect({ ...tlsFor(server, options.tls), port: server.port });
    s.setKeepAlive(true, KEEPALIVE_MS);
    return s;
  };
  // ldapts types these as net.connect / tls.connect with all their overloads; it calls them
  // only in the two forms handled above.
  return { createConnection: plain as unknown as typeof net.connect, createSecureConnection: secure as unknown as typeof tls.connect };
}

/** The first line of an error's message: ldapts appends stack-like detail after a newline.
 * An LDAP result is named ("NoSuchObjectError, result 32"): its message may be only "Code: 0x20". */
function firstLine(e: unknown): string {
  const text = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  if (e instanceof ResultCodeError) return `${e.name}, result ${e.code}${text !== '' && !text.startsWith('Code:') ? `: ${text}` : ''}`;
  return text;
}

export class Connection {
  private closed = false;

  private constructor(
    readonly server: LdapServer,
    private readonly client: Client,
    private readonly socket: SocketState,
  ) {}

  /** A connection to server; with StartTLS it is made (and TLS negotiated) here, otherwise by
   * the first operation. */
  static async open(server: LdapServer, options: ConnectionOptions, signal: AbortSignal): Promise<Connection> {
    const socket: SocketState = { opened: false };
    const client = new Client({
      url: server.url,
      // Each operation, and the TCP (and for ldaps:// TLS) connect: a server that accepts but
      // does not answer (stopped, overloaded) is given up after this.
      timeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      // Active Directory accepts a user principal name (pam@example.org) as a bind "DN".
      strictDN: false,
      ...oneSocket(server, options, socket),
    });
    const conn = new Connection(server, client, socket);
    if (options.startTls) await conn.guard(signal, 'StartTLS', () => client.startTLS(tlsFor(server, options.tls)));
    return conn;
  }

  /** Still usable: not closed, and its one socket not yet opened or still open. */
  get alive(): boolean {
    return !this.closed && (!this.socket.opened || this.client.isConnected);
  }

  /** A simple bind. Returns false for wrong credentials; throws DirectoryError otherwise. */
  async bind(dn: string, password: string, signal: AbortSignal): Promise<boolean> {
    try {
      await this.guard(signal, 'bind', () => this.client.bind(dn, password));
      return true;
    } catch (e) {
      if (e instanceof DirectoryError && e.cause instanceof InvalidCredentialsError) return false;
      throw e;
    }
  }

  async search(base: string, options: SearchOptions, signal: AbortSignal): Promise<SearchAnswer> {
    const r = await this.guard(signal, 'search', () => this.client.search(base, options));
    return { entries: r.searchEntries };
  }

  /** Ends the connection without waiting for the server. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.unbind().catch(() => undefined);
  }

  /** Runs one step. A failure that is not an LDAP answer (socket, timeout, TLS), or the signal,
   * closes the connection; an LDAP result code leaves it usable. Every failure becomes a
   * DirectoryError, with the ldapts error as its cause. */
  private async guard<T>(signal: AbortSignal, what: string, step: () => Promise<T>): Promise<T> {
    if (signal.aborted) throw new DirectoryError(`${this.server.url}: gave up before ${what}`);
    if (!this.alive) throw new DirectoryError(`the connection to ${this.server.url} was lost`, { dropped: true });
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new DirectoryError(`no answer from ${this.server.url} (${what})`));
    });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([step(), aborted]);
    } catch (e) {
      if (!(e instanceof ResultCodeError)) this.close();
      if (e instanceof DirectoryError) throw e;
      const dropped = !signal.aborted && !(e instanceof ResultCodeError) && DROPPED.test(firstLine(e));
      const resultCode = e instanceof ResultCodeError ? e.code : undefined;
      throw new DirectoryError(`${this.server.url}: ${what}: ${firstLine(e)}`, { cause: e, dropped, resultCode });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
