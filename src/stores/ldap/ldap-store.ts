// The `ldap` store: users in an LDAP directory (OpenLDAP with Kopano's or Zarafa's schema, Active
// Directory, ...). The user is found with the service account's search; the password is checked
// by binding as the user (auth_method = bind), against userPassword (auth_method = password) or
// by the realm's KDC (auth_method = kerberos, password-check.ts);
// the entry's own attributes and the access rules (require_group, host_attribute) give the
// account's state. Only facts are returned: the worker's policy decides. What a search read may
// serve the next authentications of the same login for entry_cache_timeout (entry-cache.ts);
// the password is checked by the server every time.
import type { Entry } from 'ldapts';
import { StoreContext } from '../context';
import { AccountState, Diagnosis, Lookup, Store, StoreUnavailableError, StoreUser, Verification } from '../store';
import { entryState, featureList, hostAllowed, RULE_ATTRIBUTES } from './account-rules';
import { Connection, DirectoryError } from './connection';
import { BindPool } from './bind-pool';
import { Directory } from './directory';
import { CachedEntry, EntryCache } from './entry-cache';
import { bufferValues, stringValues } from './entry-values';
import { escapeFilterValue, userFilter } from './filter-escape';
import { entryHasLogin } from './login-attribute';
import { KerberosPasswordCheck, withKdcState } from './password-check';
import { UnsupportedPasswordError, verifyUserPassword } from './password-schemes';
import { LdapSettings } from './settings';

/** Entries asked for per search: two already make a login ambiguous; the rest count for the log. */
const SEARCH_LIMIT = 10;
/** A server's share of store_timeout is at least this, so a long list of URIs still gets tries. */
const MIN_SERVER_MS = 500;
/** noSuchObject: a bind to a DN that is gone (most servers say invalidCredentials instead). */
const NO_SUCH_OBJECT = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class LdapStore implements Store {
  readonly type = 'ldap';
  readonly defaultDisabledFeatures: readonly string[];
  private readonly directory: Directory;
  private readonly binds: BindPool;
  private readonly attributes: string[];
  /** auth_method = kerberos; null otherwise. */
  private readonly kerberos: KerberosPasswordCheck | null;
  private readonly entries: EntryCache;

  constructor(
    private readonly settings: LdapSettings,
    private readonly ctx: StoreContext,
  ) {
    this.defaultDisabledFeatures = settings.disabledFeatures;
    const attributes = ['uid', ...settings.loginRules.map((rule) => rule.attribute), settings.enabledFeaturesAttribute, settings.disabledFeaturesAttribute, ...RULE_ATTRIBUTES];
    if (settings.hostAttribute !== null) attributes.push(settings.hostAttribute);
    if (settings.nonActiveAttribute !== null) attributes.push(settings.nonActiveAttribute);
    if (settings.authMethod === 'password') attributes.push('userPassword');
    this.kerberos = settings.kerberos === null ? null : new KerberosPasswordCheck(settings.kerberos, settings.loginRules, ctx);
    attributes.push(...(this.kerberos?.attributes ?? []));
    this.attributes = [...new Set(attributes)];
    // Each server gets its share of store_timeout, so a first server that hangs leaves the
    // second time to answer.
    const timeoutMs = Math.max(MIN_SERVER_MS, Math.floor(ctx.storeTimeoutMs / settings.servers.length));
    this.directory = new Directory(
      settings.servers,
      {
        startTls: settings.startTls,
        timeoutMs,
        tls: {
          ca: settings.caFile === null ? undefined : ctx.readFile(settings.caFile),
          rejectUnauthorized: settings.tlsVerify,
          minVersion: 'TLSv1.2',
        },
      },
      settings.bindDn === null ? null : { dn: settings.bindDn, password: settings.bindPassword },
      ctx.log,
    );
    this.binds = new BindPool(this.directory.options);
    // Only a bind can take a kept entry (auth_method = password needs the userPassword a search
    // just read; kerberos asks the KDC after its own search), and an account check searches
    // anyway: under the other methods a kept entry would only hold memory.
    this.entries = new EntryCache(settings.authMethod === 'bind' ? settings.entryCacheTimeoutMs : 0);
    if (!settings.tlsVerify) ctx.log('warning', 'store.tls_unverified', { message: 'tls_verify = no: any server can pretend to be the directory and learn passwords' });
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    const started = Date.now();
    return this.directory.run(signal, async (conn) => {
      // A kept entry spares the search, never the bind. Only a bind checks against the server
      // now: auth_method = password compares the userPassword a search just read.
      const kept = this.entries.get(login);
      if (kept !== undefined) {
        if (await this.bindKept(conn, kept, login, password, signal)) {
          return { found: true, passwordOk: true, user: await this.facts(conn, kept, login, true, signal) };
        }
        // Wrong password, or the entry moved, was renamed or removed: a fresh search decides.
        this.entries.drop(login);
      }
      const entry = await this.findUser(conn, login, signal);
      if (entry === null) return { found: false };
      if (this.kerberos !== null) return this.verifyByKdc(this.kerberos, conn, entry, login, password, signal, started);
      // The kept DN's bind already said no to this password; asking the same DN again would
      // only make a wrong password dearer.
      const passwordOk = kept !== undefined && kept.entry.dn === entry.dn
        ? false
        : await this.checkPassword(conn, entry, login, password, signal);
      // Kept after a right password, or in place of the kept entry it re-reads; never for a new
      // name after a wrong one, so wrong guesses at many names do not push out the entries of
      // the users who log in.
      const record: CachedEntry = passwordOk || kept !== undefined ? this.entries.put(login, entry) : { entry, readAt: 0 };
      // The access rules may cost a query; they matter only once the password is right.
      return { found: true, passwordOk, user: await this.facts(conn, record, login, passwordOk, signal) };
    });
  }

  async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
    return this.directory.run(signal, async (conn) => {
      // Always a search: a kept entry would let an account check answer without a word from
      // the directory, so a hung or stopped server would say yes. (The account call of a
      // transaction is answered by the worker from its authentication.) What it finds is kept
      // for the next authentication.
      const entry = await this.findUser(conn, login, signal);
      if (entry === null) {
        this.entries.drop(login);
        return { found: false };
      }
      return { found: true, user: await this.facts(conn, this.entries.put(login, entry), login, true, signal) };
    });
  }

  /** For the doctor: with auth_method = kerberos, the keytab tried against the KDC. */
  async diagnose(signal: AbortSignal): Promise<Diagnosis[]> {
    return this.kerberos === null ? [] : this.kerberos.diagnose(signal);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.binds.close();
    await this.directory.close();
  }

  /** The one entry the filter finds for login and that carries it as typed (up to ASCII case:
   * see login-attribute.ts), or null for none, or for several (which is a directory problem
   * worth a log line, and never a reason to pick one). */
  private async findUser(conn: Connection, login: string, signal: AbortSignal): Promise<Entry | null> {
    const { entries } = await conn.search(this.settings.base, {
      scope: 'sub',
      filter: userFilter(this.settings.filter, login),
      attributes: this.attributes,
      explicitBufferAttributes: ['userPassword'],
      sizeLimit: SEARCH_LIMIT,
      derefAliases: 'never',
    }, signal);
    // Entries the server's matching rules found for another spelling of the name are not this user.
    const exact = entries.filter((e) => entryHasLogin(e, this.settings.loginRules, login));
    if (exact.length === 1) return exact[0];
    if (exact.length > 1) {
      this.ctx.log('warning', 'store.ambiguous_login', {
        login,
        count: entries.length >= SEARCH_LIMIT ? `${SEARCH_LIMIT} or more` : exact.length,
        message: 'the filter finds more than one entry: refused as unknown',
      });
    }
    return null;
  }

  /** auth_method = kerberos: the KDC's word on the password, the directory's on the account
   * (the KDC's too when it refuses the principal). */
  private async verifyByKdc(kerberos: KerberosPasswordCheck, conn: Connection, entry: Entry, login: string, password: Buffer, signal: AbortSignal, started: number): Promise<Verification> {
    const kdc = await kerberos.check(entry, login, password, signal, started);
    // Not kept: a KDC check never reuses an entry (entry_cache_timeout serves auth_method = bind).
    const user = await this.facts(conn, { entry, readAt: 0 }, login, kdc.passwordOk === true, signal);
    return { found: true, passwordOk: kdc.passwordOk, user: withKdcState(user, kdc.state) };
  }

  private async checkPassword(conn: Connection, entry: Entry, login: string, password: Buffer, signal: AbortSignal): Promise<boolean> {
    // The policy refuses empty passwords before asking a store; this store refuses them again,
    // because a bind with a DN and an empty password is an anonymous bind that many servers
    // answer with success (RFC 4513 5.1.2).
    if (password.length === 0 || entry.dn === '') return false;
    if (this.settings.authMethod === 'bind') return this.bindAs(conn, entry.dn, password, signal);
    return this.compareUserPassword(entry, login, password, signal);
  }

  /** The bind to a kept entry's DN: true for the right password; false for a wrong one or a DN
   * that is no longer there, which the caller checks against a fresh search. */
  private async bindKept(conn: Connection, kept: CachedEntry, login: string, password: Buffer, signal: AbortSignal): Promise<boolean> {
    try {
      return await this.checkPassword(conn, kept.entry, login, password, signal);
    } catch (e) {
      if (e instanceof DirectoryError && e.resultCode === NO_SUCH_OBJECT) return false;
      throw e;
    }
  }

  /** Binds as the user, on a bind-only connection to the server that found the entry: the
   * shared connection keeps the service account's rights. */
  private async bindAs(shared: Connection, dn: string, password: Buffer, signal: AbortSignal): Promise<boolean> {
    let text: string;
    try {
      text = utf8.decode(password);
    } catch {
      // ldapts sends passwords as UTF-8 text; these bytes cannot be sent as they are, and a
      // lossy version might match another password.
      return false;
    }
    return this.binds.bind(shared.server, dn, text, signal);
  }

  private async compareUserPassword(entry: Entry, login: string, password: Buffer, signal: AbortSignal): Promise<boolean> {
    const stored = bufferValues(entry, 'userPassword');
    if (stored.length === 0) {
      this.ctx.log('notice', 'store.no_password', { login, message: 'no userPassword readable: the service account needs read access to it, or use auth_method = bind' });
      return false;
    }
    let unsupported: UnsupportedPasswordError | undefined;
    for (const value of stored) {
      try {
        if (await verifyUserPassword(value, password, signal)) return true;
      } catch (e) {
        if (!(e instanceof UnsupportedPasswordError)) throw e;
        unsupported = e;
      }
    }
    if (unsupported !== undefined) throw new StoreUnavailableError(`${JSON.stringify(login)}: ${unsupported.message}; auth_method = bind lets the server check it`);
    return false;
  }

  /** What the entry and the access rules say about the account. The rules that cost a query are
   * skipped when they cannot change the outcome (wrong password, account already refused). */
  private async facts(conn: Connection, record: CachedEntry, login: string, mayLogOn: boolean, signal: AbortSignal): Promise<StoreUser> {
    const { entry } = record;
    const get = (attribute: string): string[] => stringValues(entry, attribute);
    let state: AccountState = entryState(get, Date.now(), this.settings.nonActiveAttribute);
    const { hostAttribute, requireGroup, hostname } = this.settings;
    if (state === 'active' && hostAttribute !== null && !hostAllowed(get(hostAttribute), hostname)) {
      this.ctx.log('notice', 'store.access_denied', { login, rule: 'host_attribute', host: hostname });
      state = 'inactive';
    }
    if (state === 'active' && mayLogOn && requireGroup !== null) {
      // Asked once per kept entry: the answer is as old as the entry's other attributes.
      record.inGroup ??= await this.inGroup(conn, requireGroup, entry, login, signal);
      if (!record.inGroup) {
        this.ctx.log('notice', 'store.access_denied', { login, rule: 'require_group', group: requireGroup });
        state = 'inactive';
      }
    }
    return {
      login,
      state,
      features: { enabled: featureList(get(this.settings.enabledFeaturesAttribute)), disabled: featureList(get(this.settings.disabledFeaturesAttribute)) },
    };
  }

  /** Membership as groupOfNames (member), groupOfUniqueNames (uniqueMember) or posixGroup
   * (memberUid: the login, and the entry's uid, which may differ from it in case) state it. */
  private async inGroup(conn: Connection, group: string, entry: Entry, login: string, signal: AbortSignal): Promise<boolean> {
    const dn = escapeFilterValue(entry.dn);
    const names = [...new Set([login, ...stringValues(entry, 'uid')])];
    const filter = `(|(member=${dn})(uniqueMember=${dn})${names.map((n) => `(memberUid=${escapeFilterValue(n)})`).join('')})`;
    const { entries } = await conn.search(group, { scope: 'base', filter, attributes: ['1.1'], sizeLimit: 1, derefAliases: 'never' }, signal);
    return entries.length > 0;
  }
}
