// auth_method = kerberos: the directory finds the user and says whether they may log on (the
// entry's flags, require_group, host_attribute); the realm's KDC checks the password, and its
// ticket is validated against the mail host's keytab like the krb5 store's (the same KdcClient).
// The principal comes from the entry, never from the login as typed: "ALICE" finds alice's
// entry, so only alice's principal may answer for it.
import type { Entry } from 'ldapts';
import { StoreContext } from '../context';
import { KdcClient, Principal, refusedUnasked } from '../krb5/kdc-client';
import { principalFor } from '../krb5/principal';
import { AccountState, Diagnosis, StoreUser } from '../store';
import { stringValues } from './entry-values';
import { LoginRule, loginAsStored } from './login-attribute';
import { LdapKerberos } from './settings';

/** What the KDC said: whether the password is right, and its own word on the account ('active'
 * when it has none). */
export interface KdcVerdict {
  passwordOk: boolean | 'unchecked';
  state: AccountState;
}

export class KerberosPasswordCheck {
  private readonly kdc: KdcClient;

  constructor(
    private readonly s: LdapKerberos,
    private readonly rules: readonly LoginRule[],
    private readonly ctx: StoreContext,
  ) {
    this.kdc = new KdcClient(s, ctx, 'krb5_');
  }

  /** What the user search must also return. */
  get attributes(): string[] {
    return this.s.principalAttribute === null ? [] : [this.s.principalAttribute];
  }

  async check(entry: Entry, login: string, password: Buffer, signal: AbortSignal, requestStarted: number): Promise<KdcVerdict> {
    if (refusedUnasked(password)) return { passwordOk: false, state: 'active' };
    const p = this.principal(entry, login);
    if (p === null) return { passwordOk: false, state: 'active' };
    const a = await this.kdc.check(p, password, signal, requestStarted);
    switch (a.kind) {
      case 'ok': return { passwordOk: true, state: 'active' };
      case 'bad_password': return { passwordOk: false, state: 'active' };
      // The directory has the user, the realm not: no password can be right. Not "unavailable",
      // which anyone could cause at will by naming such a user.
      case 'unknown':
        this.ctx.log('notice', 'store.no_principal', { login, principal: p.principal, message: 'the directory has the user, the KDC does not know the principal' });
        return { passwordOk: false, state: 'active' };
      // The KDC says these before it looks at the password.
      case 'expired': return { passwordOk: 'unchecked', state: 'expired' };
      case 'disabled': return { passwordOk: 'unchecked', state: 'inactive' };
      case 'password_expired': return { passwordOk: true, state: 'password_expired' };
      default: throw this.kdc.unavailable(a);
    }
  }

  diagnose(signal: AbortSignal): Promise<Diagnosis[]> {
    return this.kdc.diagnose(signal);
  }

  /** The entry's principal, or null (logged) when the entry names none this realm can have. */
  private principal(entry: Entry, login: string): Principal | null {
    const attribute = this.s.principalAttribute;
    let name: string | null;
    if (attribute === null) {
      name = loginAsStored(entry, this.rules, login);
    } else {
      const values = stringValues(entry, attribute).map((v) => v.trim()).filter((v) => v !== '');
      // Several values would let the entry's writer pick whose password counts.
      name = values.length === 1 ? values[0] : null;
      if (name === null) {
        this.ctx.log('notice', 'store.no_principal', { login, message: `the entry has ${values.length === 0 ? 'no' : 'more than one'} ${attribute} value` });
        return null;
      }
    }
    const p = name === null ? null : principalFor(name, this.s.mapping, this.s.realm);
    if (p === null) this.ctx.log('notice', 'store.no_principal', { login, message: `${JSON.stringify(name)} names no principal of ${this.s.realm} with krb5_principal = ${this.s.mapping}` });
    return p;
  }
}

/** The account's state: the directory's when it refuses, else the KDC's. */
export function withKdcState(user: StoreUser, state: AccountState): StoreUser {
  return user.state === 'active' ? { ...user, state } : user;
}
