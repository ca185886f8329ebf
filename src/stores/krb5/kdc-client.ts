// One way to ask a realm's KDC, shared by the krb5 store and the ldap store's Kerberos password
// check (auth_method = kerberos): the addon's calls with the KDCs in failover order, a bounded
// number in flight, the time budget, and what the answers mean for the doctor. The ticket is
// always validated against the keytab (native/krb5/krb5_check.cc), so a KDC that answers in the
// real one's place cannot make a password right (docs/security.md, "KDC spoofing").
import { Failover } from '../failover';
import { StoreContext } from '../context';
import { Diagnosis, StoreUnavailableError } from '../store';
import { Krb5Answer, krb5Addon, Krb5Request } from './addon';
import { clockMessage, outsideSkew, withClockRule } from './clock';
import { KerberosSettings } from './settings';

/** The contract's bound for Kerberos: a password this long is refused without asking the KDC. */
export const MAX_KRB5_PASSWORD = 512;
/** Checks in flight at once: each holds one of libuv's 4 pool threads until its budget ends, so
 * a hung KDC leaves threads for the other stores' file and DNS work. */
const MAX_IN_FLIGHT = 3;
/** The check ends before the worker gives up on the store, so its own cause is logged. */
const BUDGET_SHARE = 0.9;

export interface Principal {
  principal: string;
  enterprise: boolean;
}

/** Passwords no KDC is asked about (a NUL would cut the password in C); the caller says "wrong". */
export function refusedUnasked(password: Buffer): boolean {
  return password.length === 0 || password.length >= MAX_KRB5_PASSWORD || password.includes(0);
}

export class KdcClient {
  private readonly failover: Failover<string>;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly s: KerberosSettings,
    private readonly ctx: StoreContext,
    /** How the section names the keys, for the doctor's fixes: '' or 'krb5_'. */
    private readonly keyPrefix = '',
  ) {
    this.failover = new Failover(s.kdcs, (k) => k, ctx.log);
  }

  /** A ticket for p with password, validated against the keytab, from a KDC whose clock is
   * within the allowed skew of ours. requestStarted: when the worker's request began, so a
   * check that follows a directory search gets what is left of store_timeout. */
  async check(p: Principal, password: Buffer, signal: AbortSignal, requestStarted = Date.now()): Promise<Krb5Answer> {
    return withClockRule(await this.call(signal, (req) => krb5Addon().check(req, password), p, requestStarted));
  }

  /** An AS exchange with no password: the KDC says "unknown", "expired", "revoked" or asks for
   * preauthentication; no key is sent, so it never counts as a failed login. */
  probe(p: Principal, signal: AbortSignal): Promise<Krb5Answer> {
    return this.call(signal, (req) => krb5Addon().probe(req), p, Date.now());
  }

  /** The doctor's checks: the realm's spelling, and a ticket as the validating principal got
   * with the keytab's own key and validated with it (so the key and its version are the
   * KDC's), whose time tells the clock difference. */
  async diagnose(signal: AbortSignal): Promise<Diagnosis[]> {
    const out: Diagnosis[] = [];
    const realm = this.s.realm;
    if (realm !== realm.toUpperCase()) {
      out.push({ status: 'WARN', what: `realm ${realm} is not in upper case; Active Directory and Open Directory realms are`, fix: `${this.keyPrefix}realm = ${realm.toUpperCase()}, if that is the realm` });
    }
    const a = await this.call(signal, (req) => krb5Addon().selfTest(req), { principal: '', enterprise: false }, Date.now());
    const keytab = `keytab ${this.s.keytab}`;
    const skew = a.kind === 'ok' && a.skew !== null ? ` (clocks ${Math.abs(a.skew)} s apart)` : '';
    // The same rule as a login's: a KDC out of the allowed skew gets no login through, even
    // though the library adjusted to its clock and the ticket validated.
    if (a.skew !== null && outsideSkew(a)) out.push({ status: 'FAIL', what: `${keytab}: ${clockMessage(a.skew, a.maxSkew)}; every login is PAM_AUTHINFO_UNAVAIL`, fix: 'synchronise the clock with the KDCs (chrony or systemd-timesyncd)' });
    else if (a.kind === 'ok') out.push({ status: 'OK', what: `${keytab}: the KDC issued a ticket to its key and the ticket validated${skew}`, fix: '' });
    else if (a.kind === 'bad_password') out.push({ status: 'FAIL', what: `${keytab}: its key is not the KDC's (${a.message}); every login is PAM_AUTHINFO_UNAVAIL`, fix: 'make the keytab again (msktutil update, or kadmin ktadd) and compare klist -k with kvno' });
    else if (a.code !== 0 && /clocks of this host/.test(a.message)) out.push({ status: 'FAIL', what: `${keytab}: ${a.message}`, fix: 'synchronise the clock with the KDCs (chrony or systemd-timesyncd)' });
    else out.push({ status: 'WARN', what: `${keytab}: no ticket as the validating principal (${a.message}${a.failures.length > 0 ? `; ${a.failures.join('; ')}` : ''})`, fix: `an Active Directory service principal that is not the account's user principal name cannot get a ticket itself: the first login tells; otherwise check ${this.keyPrefix}validate_principal and the keytab (klist -k)` });
    // A warning well before the limit (120 s of the default 300 s): clocks drift.
    if (a.kind === 'ok' && a.skew !== null && !outsideSkew(a) && Math.abs(a.skew) > a.maxSkew * 0.4) out.push({ status: 'WARN', what: `the KDC's clock is ${a.skew} s from this host's; logins are refused beyond ${a.maxSkew} s (clockskew)`, fix: 'synchronise the clock with the KDCs (chrony or systemd-timesyncd)' });
    return out;
  }

  /** An answer that is not about the user, as the error the worker logs. */
  unavailable(a: Krb5Answer): StoreUnavailableError {
    const kdcs = a.failures.length > 0 ? ` (${a.failures.join('; ')})` : '';
    return new StoreUnavailableError(`${a.message}${kdcs}`);
  }

  /** One call of the addon: a slot, the KDCs in failover order, the budget that is left. */
  private async call(signal: AbortSignal, run: (req: Krb5Request) => Promise<Krb5Answer>, p: Principal, requestStarted: number): Promise<Krb5Answer> {
    const started = Date.now();
    await this.slot(signal);
    const now = Date.now();
    const budget = Math.min((this.s.timeoutMs ?? Infinity) - (now - started), this.ctx.storeTimeoutMs * BUDGET_SHARE - (now - requestStarted));
    if (budget < 1) {
      this.release();
      throw new StoreUnavailableError('the time budget was spent before the KDC was asked (on the directory, or waiting for a free check)');
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
    // A request the worker gave up on (during the directory search) asks no KDC, and is not
    // queued: an aborted signal fires no 'abort' event, so it would wait for a slot to free.
    if (signal.aborted) return Promise.reject(new StoreUnavailableError('gave up before the KDC was asked'));
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
