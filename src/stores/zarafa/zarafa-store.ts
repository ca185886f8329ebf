// The `zarafa` store: Kopano's / Zarafa's DB user plugin tables in MySQL or MariaDB, read the
// way the Kopano server reads them, in one round trip per request (two for a name the login
// index does not hold: the objects created since it was read, then the user).
import mysql, { Pool, PoolConnection } from 'mysql2/promise';
import { StoreContext } from '../context';
import { Failover } from '../failover';
import { sameLogin } from '../login';
import { AccountState, Lookup, Store, StoreUnavailableError, StoreUser, Verification } from '../store';
import { verifyZarafaHash } from '../zarafa-hash';
import { LoginIndex } from './login-index';
import { ALL_LOGINS, FEATURE_SEPARATOR, KopanoUser, LoginRow, MAX_OBJECT_ID, ObjectRow, OBJECTS_AFTER, PartRow, USER_BY_LOGIN, USER_PARTS_BY_ID, userFromParts, UserRow } from './queries';
import { Endpoint, ZarafaSettings } from './settings';

export { PROP_DISABLED_FEATURES, PROP_ENABLED_FEATURES } from './queries';

/** objectclass = (type << 16) | class; users are type 1, and only ACTIVE_USER may log on. */
export const OBJECTCLASS = { ACTIVE_USER: 0x10001, NONACTIVE_USER: 0x10002, NONACTIVE_ROOM: 0x10003, NONACTIVE_EQUIPMENT: 0x10004, NONACTIVE_CONTACT: 0x10005 } as const;
/** Reading every login name for the index may take longer than one login may. */
const INDEX_LOAD_TIMEOUT_MS = 60_000;

interface Host {
  label: string;
  pool: Pool;
}

/** Errors that mean "this server is not answering", as opposed to a wrong query. */
function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; fatal?: boolean };
  return err.fatal === true || ['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST',
    'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_ACCESS_DENIED_ERROR', 'PAM_MAPI_HOST_TIMEOUT'].includes(err.code ?? '');
}

function label(e: Endpoint): string {
  return e.kind === 'socket' ? e.path : `${e.host}:${e.port}`;
}

export class ZarafaStore implements Store {
  readonly type = 'zarafa';
  readonly defaultDisabledFeatures: readonly string[];
  private readonly hosts: Failover<Host>;
  private readonly index: LoginIndex | null;

  constructor(
    settings: ZarafaSettings,
    private readonly ctx: StoreContext,
  ) {
    this.defaultDisabledFeatures = settings.disabledFeatures;
    this.hosts = new Failover(settings.endpoints.map((e) => ({
      label: label(e),
      pool: mysql.createPool({
        ...(e.kind === 'socket' ? { socketPath: e.path } : { host: e.host, port: e.port }),
        user: settings.user,
        password: settings.password,
        database: settings.database,
        charset: 'utf8mb4',
        connectionLimit: settings.poolSize,
        waitForConnections: true,
        queueLimit: 0,
        connectTimeout: ctx.storeTimeoutMs,
        enableKeepAlive: true,
        // No long stack trace captured on every call: a CPU profile of the worker under load had
        // 3.4% of its time there, and more in the garbage collector. Errors keep their message.
        trace: false,
        // verifyIdentity: mysql2 checks the certificate's name only when asked.
        ...(settings.sslCa !== null ? { ssl: { ca: ctx.readFile(settings.sslCa), rejectUnauthorized: true, verifyIdentity: true } } : {}),
      }),
    })), (h) => h.label, ctx.log);
    this.index = settings.loginIndex
      ? new LoginIndex(
        {
          maxObjectId: async () => Number(((await this.query(MAX_OBJECT_ID, [], AbortSignal.timeout(INDEX_LOAD_TIMEOUT_MS))) as Array<{ id: number | string }>)[0]?.id ?? 0),
          allLogins: async () => (await this.query(ALL_LOGINS, [], AbortSignal.timeout(INDEX_LOAD_TIMEOUT_MS))) as LoginRow[],
          objectsAfter: async (after, signal) => (await this.query(OBJECTS_AFTER, [after], signal)) as ObjectRow[],
        },
        settings.loginIndexRefreshMs,
        settings.unknownLoginCacheMs,
        (message) => ctx.log('warning', 'store.index_failed', { message }),
      )
      : null;
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    const row = await this.find(login, signal);
    if (row === undefined) return { found: false };
    return { found: true, passwordOk: row.password !== null && verifyZarafaHash(row.password, password), user: toUser(row) };
  }

  async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
    const row = await this.find(login, signal);
    return row === undefined ? { found: false } : { found: true, user: toUser(row) };
  }

  async close(): Promise<void> {
    this.index?.close();
    await Promise.allSettled(this.hosts.hosts.map((h) => h.pool.end()));
  }

  private async find(login: string, signal: AbortSignal): Promise<KopanoUser | undefined> {
    const index = this.index;
    if (index === null) return this.byKopanoQuery(login, signal);
    await index.ready();
    let hint = index.hint(login);
    if (hint.kind === 'absent') {
      // Not in the index: only a user created since it was read could have the name, and those
      // are read by primary key. An unknown name costs what a known one does, and never a scan.
      await index.catchUp(signal);
      hint = index.hint(login);
      if (hint.kind === 'absent') return undefined;
    }
    if (hint.kind === 'unknown') return undefined;
    if (hint.kind === 'ids' && hint.ids.length === 1) {
      // Served only if the user, read now, still carries this login name.
      const id = hint.ids[0];
      const user = userFromParts(id, (await this.query(USER_PARTS_BY_ID, [id, id, id], signal)) as PartRow[]);
      if (user !== undefined && sameLogin(user.loginname, login)) return user;
      // Renamed: its new name is known from now on. Deleted: Kopano's query below says so.
      if (user !== undefined) index.renamed(id, user.loginname);
    }
    // Several ids, an entry gone stale (a rename or a deletion since the index was read), or an
    // index that could not be read: Kopano's own query, whose answer updates the index.
    return this.byKopanoQuery(login, signal);
  }

  /** Kopano's query: reads every login name (objectproperty.value has no index). */
  private async byKopanoQuery(login: string, signal: AbortSignal): Promise<KopanoUser | undefined> {
    const rows = (await this.query(USER_BY_LOGIN, [login], signal)) as UserRow[];
    // The collation may match more than Kopano's strcasecmp would (accents, other scripts).
    const matches = rows.filter((r) => sameLogin(r.loginname, login));
    this.index?.learn(login, matches.map((r) => Number(r.id)));
    if (matches.length > 1) throw new StoreUnavailableError(`login "${login}" matches ${matches.length} users in the database; Kopano would refuse it too`);
    return matches[0];
  }

  /** Runs a statement on the first host that answers, in the configured order. Every host but
   * the last gets an equal share of store_timeout, so a host that hangs (rather than refusing)
   * still leaves time for the next one within the same request. */
  private async query(sql: string, params: unknown[], signal: AbortSignal): Promise<unknown[]> {
    const now = Date.now();
    const order = this.hosts.order(now);
    const share = Math.max(1, Math.floor(this.ctx.storeTimeoutMs / order.length));
    let last: unknown;
    for (const [i, host] of order.entries()) {
      if (signal.aborted) break;
      const attempt = i < order.length - 1 ? AbortSignal.any([signal, AbortSignal.timeout(share)]) : signal;
      try {
        const rows = await this.onHost(host, sql, params, attempt);
        this.hosts.succeeded(host);
        return rows;
      } catch (e) {
        if (!isConnectionError(e)) throw new StoreUnavailableError(`database ${host.label}: ${(e as Error).message}`);
        last = e;
        this.hosts.failed(host, (e as Error).message, now);
      }
    }
    throw new StoreUnavailableError(`no database host answered (${this.hosts.describe()}): ${(last as Error | undefined)?.message ?? 'timed out'}`);
  }

  /** One statement on one host, given up when the request's signal fires. A connection whose
   * answer is still pending is destroyed, never handed to the next request. */
  private async onHost(host: Host, sql: string, params: unknown[], signal: AbortSignal): Promise<unknown[]> {
    let conn: PoolConnection | undefined;
    let abandoned = false;
    let giveUp!: (e: Error) => void;
    const aborted = new Promise<never>((_, reject) => { giveUp = reject; });
    aborted.catch(() => undefined); // observed through the races below
    const onAbort = (): void => {
      abandoned = true;
      conn?.destroy();
      giveUp(Object.assign(new Error(`no answer from ${host.label}`), { code: 'PAM_MAPI_HOST_TIMEOUT' }));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      const acquiring = host.pool.getConnection();
      acquiring.then((c) => { if (abandoned) c.destroy(); }, () => undefined);
      conn = await Promise.race([acquiring, aborted]);
      const [rows] = await Promise.race([conn.execute(sql, params as Array<string | number>), aborted]);
      conn.release();
      conn = undefined;
      return rows as unknown[];
    } catch (e) {
      conn?.destroy();
      conn = undefined;
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function toUser(row: KopanoUser): StoreUser {
  const split = (v: string | null): string[] => (v === null ? [] : v.split(FEATURE_SEPARATOR).filter((s) => s !== ''));
  const state: AccountState = Number(row.objectclass) === OBJECTCLASS.ACTIVE_USER ? 'active' : 'inactive';
  return { login: row.loginname, state, features: { enabled: split(row.enabled), disabled: split(row.disabled) } };
}
