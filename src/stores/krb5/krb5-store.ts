// The `krb5` store: a user's password checked by the realm's KDC, and the ticket validated
// against the mail host's own key (the keytab), so a KDC that answers in the real one's place
// cannot make a password right (docs/security.md, "KDC spoofing"). The account exists when the
// KDC knows the principal. Kerberos keeps no mail features: disabled_features applies to all.
import { StoreContext } from '../context';
import { Diagnosis, Lookup, Store, StoreUser, AccountState, Verification } from '../store';
import { KdcClient, refusedUnasked } from './kdc-client';
import { principalFor } from './principal';
import { Krb5Settings } from './settings';

export class Krb5Store implements Store {
  readonly type = 'krb5';
  readonly defaultDisabledFeatures: readonly string[];
  private readonly kdc: KdcClient;

  constructor(
    private readonly s: Krb5Settings,
    ctx: StoreContext,
  ) {
    this.defaultDisabledFeatures = s.disabledFeatures;
    this.kdc = new KdcClient(s, ctx);
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    const p = principalFor(login, this.s.mapping, this.s.realm);
    if (p === null) return { found: false };
    // Refused unasked: whether the user exists is not known then, and need not be.
    if (refusedUnasked(password)) return { found: true, passwordOk: false, user: user(login, 'active') };
    const a = await this.kdc.check(p, password, signal);
    switch (a.kind) {
      case 'ok': return { found: true, passwordOk: true, user: user(login, 'active') };
      case 'bad_password': return { found: true, passwordOk: false, user: user(login, 'active') };
      case 'unknown': return { found: false };
      // The KDC says these before it looks at the password.
      case 'expired': return { found: true, passwordOk: 'unchecked', user: user(login, 'expired') };
      case 'disabled': return { found: true, passwordOk: 'unchecked', user: user(login, 'inactive') };
      // The password is right (a ticket for the password changing service was issued to it).
      case 'password_expired': return { found: true, passwordOk: true, user: user(login, 'password_expired') };
      default: throw this.kdc.unavailable(a);
    }
  }

  /** What pam_krb5 cannot tell without a ticket, asked of the KDC honestly (KdcClient.probe). */
  async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
    const p = principalFor(login, this.s.mapping, this.s.realm);
    if (p === null) return { found: false };
    const a = await this.kdc.probe(p, signal);
    switch (a.kind) {
      case 'ok': return { found: true, user: user(login, 'active') };
      case 'unknown': return { found: false };
      case 'expired': return { found: true, user: user(login, 'expired') };
      case 'disabled': return { found: true, user: user(login, 'inactive') };
      case 'password_expired': return { found: true, user: user(login, 'password_expired') };
      default: throw this.kdc.unavailable(a);
    }
  }

  diagnose(signal: AbortSignal): Promise<Diagnosis[]> {
    return this.kdc.diagnose(signal);
  }

  async close(): Promise<void> {
    // Nothing is kept open: each check has its own context and connections.
  }
}

function user(login: string, state: AccountState): StoreUser {
  return { login, state, features: { enabled: [], disabled: [] } };
}
