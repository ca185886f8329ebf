// The krb5 store's native part (native/krb5/krb5_check.cc), loaded on first use: reading a
// config that names no krb5 store (the CLI, the doctor) never loads libkrb5.
import path from 'path';

export interface Krb5Request {
  /** The principal in krb5_parse_name's syntax, realm included. */
  principal: string;
  /** Parse it as an enterprise name (an AD user principal name). */
  enterprise: boolean;
  realm: string;
  /** Tried in this order, over TCP. */
  kdcs: string[];
  keytab: string;
  /** The principal to validate against; '' for the keytab's first key of the realm. */
  server: string;
  /** For the whole check, every exchange with every KDC. */
  budgetMs: number;
}

/** What the KDC said, as a fact; 'unavailable' is anything that is not an answer about the user. */
export type Krb5Kind = 'ok' | 'bad_password' | 'unknown' | 'expired' | 'disabled' | 'password_expired' | 'unavailable';

export interface Krb5Answer {
  kind: Krb5Kind;
  /** The krb5 error code, 0 on success. */
  code: number;
  message: string;
  /** When the KDC issued a ticket: how far the KDC's clock (the ticket's authtime) was outside
   * this host's clock during the exchange, in seconds, negative when the KDC is behind; null
   * when no ticket was issued. src/stores/krb5/clock.ts decides what it means. */
  skew: number | null;
  /** krb5.conf's clockskew (libdefaults), 300 s when unset: the difference Kerberos allows. */
  maxSkew: number;
  /** "kdc: why" for each KDC that did not answer. */
  failures: string[];
  /** The last KDC that answered. */
  answered: string | null;
}

interface Addon {
  check(req: Krb5Request, password: Buffer): Promise<Krb5Answer>;
  probe(req: Krb5Request): Promise<Krb5Answer>;
  selfTest(req: Krb5Request): Promise<Krb5Answer>;
  defaultRealm(): string | null;
  realmKdcs(realm: string): string[];
}

let loaded: Addon | null = null;

/** From dist/src/stores/krb5/addon.js up to the repo root (or the installed tree's root). */
export function krb5Addon(): Addon {
  loaded ??= require(path.resolve(__dirname, '../../../../build/Release/krb5_check.node')) as Addon;
  return loaded;
}
