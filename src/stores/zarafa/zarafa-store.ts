// The `zarafa` store: Kopano's / Zarafa's DB user plugin tables in MySQL or MariaDB, read the
// way the Kopano server reads them, in one query per request.
import mysql, { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { StoreContext } from '../context';
import { sameLogin } from '../login';
import { AccountState, Lookup, Store, StoreUnavailableError, StoreUser, Verification } from '../store';
import { verifyZarafaHash } from '../zarafa-hash';
import { Endpoint, ZarafaSettings } from './settings';

/** objectclass = (type << 16) | class; users are type 1, and only ACTIVE_USER may log on. */
export const OBJECTCLASS = { ACTIVE_USER: 0x10001, NONACTIVE_USER: 0x10002, NONACTIVE_ROOM: 0x10003, NONACTIVE_EQUIPMENT: 0x10004, NONACTIVE_CONTACT: 0x10005 } as const;
/** MAPI tags of the per-user feature lists, as Kopano stores them in objectmvproperty. */
export const PROP_ENABLED_FEATURES = '0x67B3101E';
export const PROP_DISABLED_FEATURES = '0x67B4101E';
/** A host that failed is skipped for this long, then tried first again. */
const RETRY_DOWN_HOST_MS = 2000;
const FEATURE_SEPARATOR = '\n';

// Candidates by login name (the column's collation already ignores case), with everything a
// decision needs: class, password, both feature lists. One round trip, no string-built SQL.
const USER_QUERY = `
SELECT o.objectclass AS objectclass, lp.value AS loginname, pw.value AS password,
  (SELECT GROUP_CONCAT(f.value ORDER BY f.orderid SEPARATOR '\\n') FROM objectmvproperty f
     WHERE f.objectid = o.id AND f.propname = '${PROP_ENABLED_FEATURES}') AS enabled,
  (SELECT GROUP_CONCAT(f.value ORDER BY f.orderid SEPARATOR '\\n') FROM objectmvproperty f
     WHERE f.objectid = o.id AND f.propname = '${PROP_DISABLED_FEATURES}') AS disabled
FROM objectproperty lp
JOIN object o ON o.id = lp.objectid
LEFT JOIN objectproperty pw ON pw.objectid = o.id AND pw.propname = 'password'
WHERE lp.propname = 'loginname' AND lp.value = ? AND (o.objectclass >> 16) = 1`;

interface UserRow extends RowDataPacket {
  objectclass: number;
  loginname: string;
  password: string | null;
  enabled: string | null;
  disabled: string | null;
}

interface Host {
  label: string;
  pool: Pool;
  downUntil: number;
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
  private readonly hosts: Host[];

  constructor(
    settings: ZarafaSettings,
    private readonly ctx: StoreContext,
  ) {
    this.defaultDisabledFeatures = settings.disabledFeatures;
    this.hosts = settings.endpoints.map((e) => ({
      label: label(e),
      downUntil: 0,
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
        // verifyIdentity: mysql2 checks the certificate's name only when asked.
        ...(settings.sslCa !== null ? { ssl: { ca: ctx.readFile(settings.sslCa), rejectUnauthorized: true, verifyIdentity: true } } : {}),
      }),
    }));
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
    await Promise.allSettled(this.hosts.map((h) => h.pool.end()));
  }

  /** Checks each database host once (for `pam-mapi doctor` and start-up logs). */
  async ping(signal: AbortSignal): Promise<void> {
    await this.query('SELECT 1', [], signal);
  }

  private async find(login: string, signal: AbortSignal): Promise<UserRow | undefined> {
    const rows = (await this.query(USER_QUERY, [login], signal)) as UserRow[];
    // The collation may match more than Kopano's strcasecmp would (accents, other scripts).
    const matches = rows.filter((r) => sameLogin(r.loginname, login));
    if (matches.length > 1) throw new StoreUnavailableError(`login "${login}" matches ${matches.length} users in the database; Kopano would refuse it too`);
    return matches[0];
  }

  /** Runs a statement on the first host that answers, in the configured order. Every host but
   * the last gets an equal share of store_timeout, so a host that hangs (rather than refusing)
   * still leaves time for the next one within the same request. */
  private async query(sql: string, params: unknown[], signal: AbortSignal): Promise<unknown[]> {
    const now = Date.now();
    const up = this.hosts.filter((h) => h.downUntil <= now);
    const order = up.length > 0 ? up : this.hosts;
    const share = Math.max(1, Math.floor(this.ctx.storeTimeoutMs / order.length));
    let last: unknown;
    for (const [i, host] of order.entries()) {
      if (signal.aborted) break;
      const attempt = i < order.length - 1 ? AbortSignal.any([signal, AbortSignal.timeout(share)]) : signal;
      try {
        const rows = await this.onHost(host, sql, params, attempt);
        if (host.downUntil !== 0) {
          host.downUntil = 0;
          this.ctx.log('notice', 'store.host_back', { host: host.label });
        }
        return rows;
      } catch (e) {
        if (!isConnectionError(e)) throw new StoreUnavailableError(`database ${host.label}: ${(e as Error).message}`);
        last = e;
        if (host.downUntil <= now) this.ctx.log('warning', 'store.host_down', { host: host.label, message: (e as Error).message });
        host.downUntil = Date.now() + RETRY_DOWN_HOST_MS;
      }
    }
    throw new StoreUnavailableError(`no database host answered (${this.hosts.map((h) => h.label).join(', ')}): ${(last as Error | undefined)?.message ?? 'timed out'}`);
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

function toUser(row: UserRow): StoreUser {
  const split = (v: string | null): string[] => (v === null ? [] : v.split(FEATURE_SEPARATOR).filter((s) => s !== ''));
  const state: AccountState = Number(row.objectclass) === OBJECTCLASS.ACTIVE_USER ? 'active' : 'inactive';
  return { login: row.loginname, state, features: { enabled: split(row.enabled), disabled: split(row.disabled) } };
}
