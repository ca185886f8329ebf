// The `type = ldap` section: which directory servers, how to reach them safely, how to find a
// user and check the password, and the access rules. Checked whole at load, so a broken
// section is refused with its key named instead of failing at the first login.
import fs from 'fs';
import os from 'os';
import { FilterParser } from 'ldapts';
import { checkTrustedFile, readTrustedFile } from '../../config/permissions';
import { PrefixedReader, SectionReader } from '../../config/section';
import { ALLOW_CLEARTEXT, allowCleartext, isLoopbackHost } from '../cleartext';
import { featureList, KOPANO_DEFAULT_DISABLED } from '../features';
import { KERBEROS_KEYS, KerberosSettings, parseKerberosSettings } from '../krb5/settings';
import { LOGIN_PLACEHOLDER, userFilter } from './filter-escape';
import { LoginRule, rulesFromFilter } from './login-attribute';

/** One directory server to try, in order. */
export interface LdapServer {
  secure: boolean;
  host: string;
  port: number;
  /** For ldapts and for log lines: scheme://host:port. */
  url: string;
}

export const AUTH_METHODS = ['bind', 'password', 'kerberos'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** auth_method = kerberos: the krb5 store's keys with krb5_ in front, and where the entry names
 * its principal. */
export interface LdapKerberos extends KerberosSettings {
  /** The entry's attribute that holds the principal's name (userPrincipalName,
   * krb5PrincipalName), read as `principal` says; null: the login as the entry spells it. */
  principalAttribute: string | null;
}

/** The keys of auth_method = kerberos, refused with the reason under another auth_method. */
const LDAP_KERBEROS_KEYS = [...KERBEROS_KEYS, 'principal_attribute'].map((k) => `krb5_${k}`);

export interface LdapSettings {
  servers: LdapServer[];
  startTls: boolean;
  /** PEM file of the CAs to trust; null: Node's own list of public CAs. */
  caFile: string | null;
  tlsVerify: boolean;
  /** null: search anonymously. */
  bindDn: string | null;
  bindPassword: string;
  base: string;
  filter: string;
  /** Which attribute values a login must equal (up to ASCII case): from login_attribute, else
   * from the filter's equality items that hold %u. */
  loginRules: LoginRule[];
  authMethod: AuthMethod;
  /** Set exactly when authMethod is kerberos. */
  kerberos: LdapKerberos | null;
  enabledFeaturesAttribute: string;
  disabledFeaturesAttribute: string;
  disabledFeatures: string[];
  requireGroup: string | null;
  hostAttribute: string | null;
  /** Kopano's ldap_nonactive_attribute: a value other than 0/false/no makes the account
   * inactive (a store without a login), besides kopanoSharedStoreOnly/zarafaSharedStoreOnly. */
  nonActiveAttribute: string | null;
  /** This machine, as host_attribute values name it. */
  hostname: string;
  /** How long an entry a search found may serve later requests for the same login (never the
   * password check); 0: every request searches. */
  entryCacheTimeoutMs: number;
}

export const DEFAULT_FILTER = '(&(objectClass=kopano-user)(uid=%u))';
/** Where Debian and RHEL keep the system's CA bundle, which libldap also trusts by default. */
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
/** SSSD's pam_id_timeout: a login's few requests (auth, account, a client's next connection)
 * share one search. */
export const DEFAULT_ENTRY_CACHE_TIMEOUT_S = 5;
/** A kept entry's account flags may be this old at most: disabling an account must bite soon. */
const MAX_ENTRY_CACHE_TIMEOUT_S = 60;
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$/;
function parseServer(r: SectionReader, spec: string): LdapServer {
  const m = /^(ldaps?):\/\/(\[[0-9A-Fa-f:.]+\]|[^:/[\]]*)(?::([0-9]{1,5}))?\/?$/i.exec(spec);
  if (m === null) {
    r.fail('uri', `"${spec}" is not an ldap:// or ldaps:// URI with only a host and a port${/^ldapi:/i.test(spec) ? ' (ldapi:// is not supported)' : ''}`);
  }
  const secure = m[1].toLowerCase() === 'ldaps';
  const host = m[2] === '' ? 'localhost' : m[2].replace(/^\[|\]$/g, '');
  const port = m[3] === undefined ? (secure ? 636 : 389) : Number(m[3]);
  if (port < 1 || port > 65535) r.fail('uri', `port ${port} is outside 1..65535`);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { secure, host, port, url: `${secure ? 'ldaps' : 'ldap'}://${urlHost}:${port}` };
}

function attribute(r: SectionReader, key: string, fallback: string): string {
  const v = r.string(key, fallback);
  if (!ATTRIBUTE.test(v)) r.fail(key, `"${v}" is not an attribute name`);
  return v;
}

/** Every ( closed by a ). ldapts quietly completes a filter missing its last ")", which hides a
 * typo; in a filter, a parenthesis that is data is written \28 or \29, so counting is exact. */
function balanced(filter: string): boolean {
  let depth = 0;
  for (const c of filter) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function parseFilterTemplate(r: SectionReader): string {
  let filter = r.string('filter', DEFAULT_FILTER);
  // As libldap: a bare "uid=%u" is one filter item.
  if (!filter.startsWith('(')) filter = `(${filter})`;
  if (!filter.includes(LOGIN_PLACEHOLDER)) r.fail('filter', `"${filter}" has no ${LOGIN_PLACEHOLDER}: every login would find the same entries`);
  try {
    if (!balanced(filter)) throw new Error('unbalanced parentheses');
    FilterParser.parseString(userFilter(filter, 'user'));
  } catch (e) {
    r.fail('filter', `"${filter}" is not an LDAP filter: ${(e as Error).message}`);
  }
  return filter;
}

function parseLoginRules(r: SectionReader, filter: string): LoginRule[] {
  const explicit = r.optional('login_attribute');
  if (explicit !== undefined) {
    if (!ATTRIBUTE.test(explicit)) r.fail('login_attribute', `"${explicit}" is not an attribute name`);
    return [{ attribute: explicit, parts: ['', ''] }];
  }
  try {
    return rulesFromFilter(filter);
  } catch (e) {
    r.fail('filter', `"${filter}": ${(e as Error).message}, so the store cannot tell which attribute holds the login: set login_attribute`);
  }
}

function parseBindPassword(r: SectionReader, bindDn: string | null): string {
  const inline = r.optional('bind_password');
  const file = r.optional('bind_password_file');
  if (inline !== undefined && file !== undefined) r.fail('bind_password_file', 'give either bind_password or bind_password_file, not both');
  let password = inline ?? '';
  if (file !== undefined) {
    password = readTrustedFile(file, { what: 'bind password file', holdsSecret: true }).replace(/\r?\n$/, '');
  }
  // A DN with an empty password is an unauthenticated bind (RFC 4513 5.1.2): servers that allow
  // it would hand us anonymous rights while the config claims a service account.
  if (bindDn !== null && password === '') r.fail('bind_dn', 'needs bind_password or bind_password_file (a DN with an empty password is an anonymous bind)');
  if (bindDn === null && password !== '') r.fail(inline !== undefined ? 'bind_password' : 'bind_password_file', 'given without bind_dn');
  return password;
}

function parseKerberos(r: SectionReader, authMethod: AuthMethod): LdapKerberos | null {
  if (authMethod !== 'kerberos') {
    const stray = LDAP_KERBEROS_KEYS.find((k) => r.has(k));
    if (stray !== undefined) r.fail(stray, `is for auth_method = kerberos (auth_method is ${authMethod})`);
    return null;
  }
  const principalAttribute = r.optional('krb5_principal_attribute') ?? null;
  if (principalAttribute !== null && !ATTRIBUTE.test(principalAttribute)) r.fail('krb5_principal_attribute', `"${principalAttribute}" is not an attribute name`);
  return { ...parseKerberosSettings(new PrefixedReader(r, 'krb5_')), principalAttribute };
}

function parseCaFile(r: SectionReader, tlsUsed: boolean): string | null {
  const file = r.optional('ca_file');
  if (file === undefined) return tlsUsed ? SYSTEM_CA_BUNDLES.find((f) => fs.existsSync(f)) ?? null : null;
  if (!fs.existsSync(file)) r.fail('ca_file', `${file} does not exist`);
  // Whoever may write the CA file may make the worker trust their server.
  checkTrustedFile(file, false, 'CA file');
  return file;
}

export function parseLdapSettings(r: SectionReader): LdapSettings {
  const uris = r.list('uri', []);
  if (uris.length === 0) r.fail('uri', 'is required (for example ldaps://ldap.example.org)');
  const servers = uris.map((u) => parseServer(r, u));
  const startTls = r.boolean('starttls', false);
  if (startTls && servers.some((s) => s.secure)) r.fail('starttls', 'StartTLS is for ldap:// URIs; ldaps:// is TLS already');
  const authMethod = r.choice<AuthMethod>('auth_method', 'bind', AUTH_METHODS);
  // Users' passwords (the bind, or the userPassword read) would cross the network unencrypted;
  // with Kerberos no password does, but whoever forges the entries decides who may log on, and
  // as whom (the principal).
  const plain = servers.find((s) => !s.secure && !isLoopbackHost(s.host));
  if (!allowCleartext(r) && !startTls && plain !== undefined) {
    const risk = authMethod === 'kerberos' ? 'the entries that say who may log on, and as which principal, unprotected' : 'users\' passwords over the network unencrypted';
    r.fail('uri', `${plain.url} would carry ${risk}: use ldaps://, or set starttls = yes, or ${ALLOW_CLEARTEXT} = yes to accept that risk`);
  }
  const tlsVerify = r.boolean('tls_verify', true);
  const caFile = parseCaFile(r, startTls || servers.some((s) => s.secure));
  const bindDn = r.optional('bind_dn') ?? null;
  const bindPassword = parseBindPassword(r, bindDn);
  const hostAttribute = r.optional('host_attribute') ?? null;
  if (hostAttribute !== null && !ATTRIBUTE.test(hostAttribute)) r.fail('host_attribute', `"${hostAttribute}" is not an attribute name`);
  const nonActiveAttribute = r.optional('nonactive_attribute') ?? null;
  if (nonActiveAttribute !== null && !ATTRIBUTE.test(nonActiveAttribute)) r.fail('nonactive_attribute', `"${nonActiveAttribute}" is not an attribute name`);
  const base = r.required('base');
  const filter = parseFilterTemplate(r);
  return {
    servers,
    startTls,
    caFile,
    tlsVerify,
    bindDn,
    bindPassword,
    base,
    filter,
    loginRules: parseLoginRules(r, filter),
    authMethod,
    kerberos: parseKerberos(r, authMethod),
    enabledFeaturesAttribute: attribute(r, 'enabled_features_attribute', 'kopanoEnabledFeatures'),
    disabledFeaturesAttribute: attribute(r, 'disabled_features_attribute', 'kopanoDisabledFeatures'),
    disabledFeatures: featureList(r, 'disabled_features', KOPANO_DEFAULT_DISABLED),
    requireGroup: r.optional('require_group') ?? null,
    hostAttribute,
    nonActiveAttribute,
    hostname: r.string('hostname', os.hostname()),
    entryCacheTimeoutMs: r.seconds('entry_cache_timeout', DEFAULT_ENTRY_CACHE_TIMEOUT_S, MAX_ENTRY_CACHE_TIMEOUT_S, true),
  };
}
