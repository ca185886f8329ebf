// The krb5 store's section: realm, KDCs, keytab, the principal to validate against, how a login
// maps to a principal, the time budget and the features; the same keys, krb5_ in front, in an
// ldap store's section with auth_method = kerberos. Defaults come from krb5.conf (the
// system's, or the one KRB5_CONFIG names).
import fs from 'fs';
import { SectionReader } from '../../config/section';
import { FileAccessError, openTrustedFile, workerIdentity } from '../../config/permissions';
import { ConfigError } from '../../config/errors';
import { WORKER_USER } from '../../protocol/constants';
import { featureList } from '../features';
import { krb5Addon } from './addon';
import { PRINCIPAL_MAPPINGS, PrincipalMapping } from './principal';

export const DEFAULT_KEYTAB = '/etc/krb5.keytab';
/** host, host:port, [v6] or [v6]:port, as krb5.conf's kdc (its tcp/ and udp/ prefixes too). */
const KDC = /^(?:(?:tcp|udp)\/)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** What a Kerberos password check needs: the krb5 store's section, and an ldap store's with
 * auth_method = kerberos (its keys then have krb5_ in front). */
export interface KerberosSettings {
  realm: string;
  /** In order; from krb5.conf's [realms] when the section names none. */
  kdcs: string[];
  keytab: string;
  /** '' for the keytab's first key of the realm. */
  validatePrincipal: string;
  mapping: PrincipalMapping;
  /** The budget of one check; null for the worker's store_timeout. */
  timeoutMs: number | null;
}

export interface Krb5Settings extends KerberosSettings {
  /** Kerberos keeps no mail features: these are off for everyone, the rest on. */
  disabledFeatures: string[];
}

/** The keys parseKerberosSettings reads. */
export const KERBEROS_KEYS = ['realm', 'kdc', 'keytab', 'validate_principal', 'principal', 'timeout'] as const;

/** Reads KERBEROS_KEYS (an ldap section's krb5_realm ... through a PrefixedReader). */
export function parseKerberosSettings(r: SectionReader): KerberosSettings {
  const realm = r.optional('realm') ?? krb5Addon().defaultRealm()
    ?? r.fail('realm', 'is not set and krb5.conf names no default_realm', `edit ${r.file}: [${r.section}] ${r.keyName('realm')} = EXAMPLE.COM`);
  if (!/^[^\s@/\\]+$/.test(realm)) r.fail('realm', `"${realm}" is not a realm name`);
  const kdcs = r.list('kdc', []);
  if (kdcs.length === 0) kdcs.push(...krb5Addon().realmKdcs(realm));
  if (kdcs.length === 0) {
    r.fail('kdc', `is not set and krb5.conf names no KDC for ${realm} (DNS lookups of KDCs are not made)`, `edit ${r.file}: [${r.section}] ${r.keyName('kdc')} = dc1.example.com dc2.example.com`);
  }
  const bad = kdcs.find((k) => !KDC.test(k));
  if (bad !== undefined) r.fail('kdc', `"${bad}" is not host, host:port or [address]:port`);
  const keytab = r.string('keytab', DEFAULT_KEYTAB);
  checkKeytab(keytab);
  const validatePrincipal = r.string('validate_principal', '');
  if (validatePrincipal.includes('@') && !validatePrincipal.endsWith(`@${realm}`)) {
    r.fail('validate_principal', `"${validatePrincipal}" is not of the realm ${realm}`);
  }
  return {
    realm,
    kdcs,
    keytab,
    validatePrincipal: validatePrincipal === '' || validatePrincipal.includes('@') ? validatePrincipal : `${validatePrincipal}@${realm}`,
    mapping: r.choice<PrincipalMapping>('principal', '%u', PRINCIPAL_MAPPINGS),
    timeoutMs: r.has('timeout') ? r.seconds('timeout', 0, 60) : null,
  };
}

export function parseKrb5Settings(r: SectionReader): Krb5Settings {
  return { ...parseKerberosSettings(r), disabledFeatures: featureList(r, 'disabled_features', []) };
}

/** The keytab holds the host's key, a secret: the trusted-file rules (owner root or the worker's
 * user, not writable by others, safe directories, no symbolic link), and not readable by
 * others nor by a group that is not the worker's own (root:pam-mapi 0640 is right for a worker run as pam-mapi). It is not
 * read here: the library reads it at each check, so a renewed keytab needs no restart. */
export function checkKeytab(file: string): void {
  const id = workerIdentity();
  let st: fs.Stats;
  try {
    // Not read (the library does), so the trusted-file check leaves the secret's mode rule to
    // this function; it judges the file that check opened, not whatever the path names now.
    ({ stat: st } = openTrustedFile(file, { what: 'keytab', holdsSecret: true }, id, () => false));
  } catch (e) {
    // A keytab the worker cannot read would fail every login: say so, with the fix.
    if (e instanceof FileAccessError && e.code === 'EACCES') {
      throw new ConfigError(`keytab ${file} is not readable by the worker (uid ${process.geteuid?.() ?? '?'}): every login would fail; run chgrp ${WORKER_USER} ${file} && chmod 640 ${file}`);
    }
    throw e;
  }
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if ((st.mode & 0o004) !== 0 || ((st.mode & 0o040) !== 0 && !id.ownGids.has(st.gid))) {
    throw new ConfigError(`keytab ${file} holds the host's key and is readable by others (mode ${mode}): refusing it; run chmod 600 ${file}, or chgrp ${WORKER_USER} ${file} && chmod 640 ${file}`);
  }
}
