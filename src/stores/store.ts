// What every user store provides to the worker. A store answers facts (does the user exist, is
// the password right, what is the account's state, which features does the user list); the
// worker turns facts into PAM outcomes, so every store gets the same policy.

export interface UserFeatures {
  enabled: readonly string[];
  disabled: readonly string[];
}

/** inactive: Kopano's non-active users, rooms, equipment and contacts, or a disabled account.
 * password_expired: the account is valid but its password must be changed first (a Kerberos
 * KDC's "key expired"); a mail client cannot change it, so it is never a success. */
export type AccountState = 'active' | 'inactive' | 'expired' | 'password_expired';

export interface StoreUser {
  login: string;
  state: AccountState;
  features: UserFeatures;
}

export type Lookup = { found: false } | { found: true; user: StoreUser };

/** passwordOk 'unchecked': the authority refused the account before it looked at the password
 * (a Kerberos KDC says a principal is expired or disabled to anyone who asks); the account's
 * state then decides, and an active state with it is an error. 'unchecked' is truthy: compare
 * passwordOk with true or false, never test it for truth. */
export type Verification = { found: false } | { found: true; passwordOk: boolean | 'unchecked'; user: StoreUser };

/** What a found user's verification says of the password, in the words the CLI prints. */
export function passwordVerdict(passwordOk: boolean | 'unchecked'): 'right' | 'wrong' | 'not checked' {
  return passwordOk === 'unchecked' ? 'not checked' : passwordOk ? 'right' : 'wrong';
}

export interface Store {
  readonly type: string;
  /** Features that are off unless the user enables them (the store's disabled_features). */
  readonly defaultDisabledFeatures: readonly string[];
  /** Finds the user and checks the password. The password buffer belongs to the caller. */
  verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification>;
  /** Finds the user without a password, for the account phase. */
  lookup(login: string, signal: AbortSignal): Promise<Lookup>;
  /** For the doctor only: what the store can check of its own set-up beyond a lookup (a
   * Kerberos keytab against its KDC), each finding with its fix. */
  diagnose?(signal: AbortSignal): Promise<Diagnosis[]>;
  close(): Promise<void>;
}

export interface Diagnosis {
  status: 'OK' | 'WARN' | 'FAIL';
  what: string;
  fix: string;
}

/** The store could not give an answer (down, slow, misconfigured): never a success. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
