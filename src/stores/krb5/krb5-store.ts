// The `krb5` store: a user's password checked by the realm's KDC, and the ticket validated
// against the mail host's own key (the keytab), so a KDC that answers in the real one's place
// cannot make a password right (docs/security.md, "KDC spoofing"). The account exists when the
// KDC knows the principal. Kerberos keeps no mail features: disabled_features applies to all.
import { Failover } from '../failover';
import { StoreContext } from '../context';
import { Diagnosis, Lookup, Store, StoreUnavailableError, StoreUser, AccountState, Verification } from '../store';
import { Krb5Answer, krb5Addon, Krb5Request } from './addon';
import { principalFor } from './principal';
import { Krb5Settings } from './settings';

/** The contract's bound for Kerberos: a password this long is refused without asking the KDC. */
export const MAX_KRB5_PASSWORD = 512;
/** Checks in flight at once: each holds one of libuv's 4 pool threads until its budget ends, so
 * a hung KDC leaves threads for the other stores' file and DNS work. */
const MAX_IN_FLIGHT = 3;
/** The check ends before the worker gives up on the store, so its own cause is logged. */
const BUDGET_SHARE = 0.9;

export class Krb5Store implements Store {
  readonly type = 'krb5';
  readonly defaultDisabledFeatures: readonly string[];
  private readonly failover: Failover<string>;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly s: Krb5Settings,
    private readonly ctx: StoreContext,
  ) {
    this.defaultDisabledFeatures = s.disabledFeatures;
    this.failover = new Failover(s.kdcs, (k) => k, ctx.log);
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    const p = principalFor(login, this.s.mapping, this.s.realm);
    if (p === null) return { found: false };
    // Refused unasked (a NUL would cut the password in C): whether the user exists is not known
    // then, and need not be.
    if (password.length >= MAX_KRB5_PASSWORD || password.includes(0)) return { found: true, passwordOk: false, user: user(login, 'active') };
    const a = await this.call(signal, (req) => krb5Addon().check(req, password), p);
    switch (a.kind) {
      case 'ok': return { found: true, passwordOk: true, user: user(login, 'active') };
      case 'bad_password': return { found: true, passwordOk: false, user: user(login, 'active') };
      case 'unknown': return { found: false };
      // The KDC says these before it looks at the password.
      case 'expired': return { found: true, passwordOk: 'unchecked', user: user(login, 'expired') };
      case 'disabled': return { found: true, passwordOk: 'unchecked', user: user(login, 'inactive') };
      // The password is right (a ticket for the password changing service was issued to it).
      case 'password_expired': return { found: true, passwordOk: true, user: user(login, 'password_expired') };
      default: throw this.unavailable(a);
    }
  }

  /** What pam_krb5 cannot tell without a ticket, asked of the KDC honestly: an AS exchange with
   * no password, which the KDC answers with "unknown", "expired", "revoked" or a request for
   * preauthentication; no key is sent, so it never counts as a failed login. */
  async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
    const p = principalFor(login, this.s.mapping, this.s.realm);
    if (p === null) return { found: false };
    const a = await this.call(signal, (req) => krb5Addon().probe(req), p);
    switch (a.kind) {
      case 'ok': return { found: true, user: user(login, 'active') };
      case 'unknown': return { found: false };
      case 'expired': return { found: true, user: user(login, 'expired') };
      case 'disabled': return { found: true, user: user(login, 'inactive') };
      case 'password_expired': return { found: true, user: user(login, 'password_expired') };
      default: throw this.unavailable(a);
    }
  }

  /** The doctor's checks: the realm's spelling, and a ticket as the validating principal got
   * with the keytab's own key and validated with it (so the key and its version are the
   * KDC's), whose time tells the clock difference. */
  async diagnose(signal: AbortSignal): Promise<Diagnosis[]> {
    const out: Diagnosis[] = [];
    const realm = this.s.realm;
    if (realm !== realm.toUpperCase()) {
      out.push({ status: 'WARN', what: `realm ${realm} is not in upper case; Active Directory and Open Directory realms are`, fix: `realm = ${realm.toUpperCase()}, if that is the realm` });
    }
    const a = await this.call(signal, (req) => krb5Addon().selfTest(req), { principal: '', enterprise: false });
    const keytab = `keytab ${this.s.keytab}`;
    const skew = a.kind === 'ok' ? ` (clocks ${Math.abs(a.skew)} s apart)` : '';
    if (a.kind === 'ok') out.push({ status: 'OK', what: `${keytab}: the KDC issued a ticket to its key and the ticket validated${skew}`, fix: '' });
    else if (a.kind === 'bad_password') out.push({ status: 'FAIL', what: `${keytab}: its key is not the KDC's (${a.message}); every login is PAM_AUTHINFO_UNAVAIL`, fix: 'make the keytab again (msktutil update, or kadmin ktadd) and compare klist -k with kvno' });
    else if (a.code !== 0 && /clocks of this host/.test(a.message)) out.push({ status: 'FAIL', what: `${keytab}: ${a.message}`, fix: 'synchronise the clock with the KDCs (chrony or systemd-timesyncd)' });
    else out.push({ status: 'WARN', what: `${keytab}: no ticket as the validating principal (${a.message}${a.failures.length > 0 ? `; ${a.failures.join('; ')}` : ''})`, fix: 'an Active Directory service principal that is not the account\'s user principal name cannot get a ticket itself: the first login tells; otherwise check validate_principal and the keytab (klist -k)' });
    if (a.kind === 'ok' && Math.abs(a.skew) > 120) out.push({ status: 'WARN', what: `the KDC's clock is ${a.skew} s from this host's; Kerberos refuses beyond 300 s`, fix: 'synchronise the clock with the KDCs (chrony or systemd-timesyncd)' });
    return out;
  }

  async close(): Promise<void> {
    // Nothing is kept open: each check has its own context and connections.
  }

  private unavailable(a: Krb5Answer): StoreUnavailableError {
    const kdcs = a.failures.length > 0 ? ` (${a.failures.join('; ')})` : '';
    return new StoreUnavailableError(`${a.message}${kdcs}`);
  }

  /** One call of the addon: a slot, the KDCs in failover order, the budget that is left. */
  private async call(signal: AbortSignal, run: (req: Krb5Request) => Promise<Krb5Answer>, p: { principal: string; enterprise: boolean }): Promise<Krb5Answer> {
    const started = Date.now();
    await this.slot(signal);
    const budget = Math.min(this.s.timeoutMs ?? Infinity, this.ctx.storeTimeoutMs * BUDGET_SHARE) - (Date.now() - started);
    if (budget < 1) {
      this.release();
      throw new StoreUnavailableError('the time budget was spent waiting for a free check');
    }
    let pending: Promise<Krb5Answer>;
    try {
      pending = run({
        principal: p.principal,
        enterprise: p.enterprise,
        realm: this.s.realm,
        kdcs: this.failover.order(Date.now()),
        keytab: this.s.keytab,
        server: this.s.validatePrincipal,
        budgetMs: Math.floor(budget),
      });
    } catch (e) {
      // Refused before it was queued: no thread holds the slot.
      this.release();
      throw new StoreUnavailableError(`the check could not start: ${(e as Error).message}`);
    }
    // The slot is the thread's: it is free when the check ends, even after the worker gave up.
    void pending.then((a) => {
      for (const f of a.failures) this.failover.failed(f.slice(0, f.indexOf(': ')), f.slice(f.indexOf(': ') + 2), started);
      if (a.answered !== null) this.failover.succeeded(a.answered);
    }, () => undefined).finally(() => this.release());
    return pending;
  }

  private slot(signal: AbortSignal): Promise<void> {
    if (this.inFlight < MAX_IN_FLIGHT) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const go = (): void => {
        signal.removeEventListener('abort', give);
        this.inFlight++;
        resolve();
      };
      const give = (): void => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new StoreUnavailableError('gave up waiting for a free check'));
      };
      signal.addEventListener('abort', give, { once: true });
      this.waiting.push(go);
    });
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }
}

function user(login: string, state: AccountState): StoreUser {
  return { login, state, features: { enabled: [], disabled: [] } };
}
