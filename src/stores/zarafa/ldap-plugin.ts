// A Kopano server whose server.cfg says `user_plugin = ldap` keeps its users in a directory,
// described by its ldap.cfg (`user_plugin_config`, default /etc/kopano/ldap.cfg) and the files
// that includes (/usr/share/kopano/ldap.openldap.cfg or ldap.active-directory.cfg). This reads
// them and gives the LDAP store the same directory, the same users and the same checks the
// Kopano server uses, so `server_cfg =` stays the whole store config on such a host.
//
// The LDAP store's own reader checks the result (parseLdapSettings): the cleartext rule, the
// filter, the login rule. Its complaints name the ldap.cfg key and file they came from.
import { ConfigError } from '../../config/errors';
import { RawSection, SectionReader } from '../../config/section';
import { ALLOW_CLEARTEXT } from '../cleartext';
import { escapeFilterValue, LOGIN_PLACEHOLDER } from '../ldap/filter-escape';
import { LdapSettings, parseLdapSettings } from '../ldap/settings';
import { KopanoCfg, KopanoValue, readKopanoCfg } from './kopano-cfg';
import { ServerCfg } from './server-cfg';

export const DEFAULT_LDAP_CFG = '/etc/kopano/ldap.cfg';

/** What server_cfg made of a `user_plugin = ldap` host. */
export interface KopanoLdapSettings {
  plugin: 'ldap';
  ldap: LdapSettings;
  /** For the doctor: each setting, its value (never a secret's) and the file that gave it. */
  origins: string[];
}

/** Kopano's defaults where neither ldap.cfg nor its includes set a key (kopano-ldap.cfg(5)). */
const KOPANO_DEFAULTS: Readonly<Record<string, string>> = {
  ldap_host: 'localhost',
  ldap_port: '389',
  ldap_protocol: 'ldap',
  ldap_starttls: 'no',
  ldap_object_type_attribute: 'objectClass',
  ldap_loginname_attribute: 'uid',
  ldap_nonactive_attribute: 'kopanoSharedStoreOnly',
  ldap_authentication_method: 'bind',
};

/** PR_EC_ENABLED_FEATURES and PR_EC_DISABLED_FEATURES, as ldap.propmap.cfg maps them (string8
 * and unicode multi-value tags). */
const ENABLED_FEATURES_TAGS = ['0x67B3101E', '0x67B3101F'];
const DISABLED_FEATURES_TAGS = ['0x67B4101E', '0x67B4101F'];

/** Keys of the [store] section that still mean something on an LDAP host: TLS trust, the
 * cleartext consent, pam_mapi's own access rules and how long a found entry is reused. */
const OWN_KEYS = [ALLOW_CLEARTEXT, 'ca_file', 'tls_verify', 'disabled_features', 'require_group', 'host_attribute', 'hostname', 'entry_cache_timeout'];
/** Keys about Kopano's database: with user_plugin = ldap there is none to reach. */
const DATABASE_KEYS = ['host', 'socket', 'port', 'user', 'password', 'password_file', 'database', 'pool_size', 'ssl_ca', 'login_index', 'login_index_refresh', 'unknown_login_cache'];

/** The LDAP store's key, the ldap.cfg key it comes from, and that line's file. */
interface Origin {
  key: string;
  file: string;
}

/** A SectionReader over the settings made from ldap.cfg: a problem with one of them names the
 * ldap.cfg key and file; a key of the [store] section is reported as that section's. */
class LdapCfgReader extends SectionReader {
  constructor(private readonly own: SectionReader, values: RawSection, private readonly origins: Map<string, Origin>, private readonly ldapCfg: string) {
    super(own.file, own.section, values);
  }

  override fail(key: string, problem: string, fix?: string): never {
    const o = this.origins.get(key);
    if (o === undefined) return this.own.fail(key, problem, fix);
    const cleartext = key === 'uri' && problem.includes(ALLOW_CLEARTEXT);
    throw new ConfigError(`${o.file}: ${o.key}: ${problem}`, fix ?? (cleartext
      ? `set ldap_starttls = yes in ${this.ldapCfg} (or use ldaps:// URIs), or add ${ALLOW_CLEARTEXT} = yes to [${this.own.section}] in ${this.own.file}`
      : `edit ${o.file}: ${o.key}`));
  }
}

export function ldapPluginSettings(r: SectionReader, server: ServerCfg): KopanoLdapSettings {
  for (const key of DATABASE_KEYS) {
    if (r.has(key)) r.fail(key, `${server.file} says user_plugin = ldap: the users are in the directory of its ldap.cfg, not in a database, so the database keys do not apply; remove it`);
  }
  const cfgFile = server.values.get('user_plugin_config') || DEFAULT_LDAP_CFG;
  const cfg = readKopanoCfg(cfgFile, { what: 'user_plugin_config', secretKeys: ['ldap_bind_passwd'], groupRead: 'member-group' });
  const get = (key: string): KopanoValue => {
    const v = cfg.values.get(key);
    if (v !== undefined && v.value !== '') return v;
    return { value: KOPANO_DEFAULTS[key] ?? '', file: `${v?.file ?? cfg.file} (unset there: Kopano's default)` };
  };

  const values: RawSection = {};
  const origins = new Map<string, Origin>();
  const set = (key: string, from: string, value: string, file: string): void => {
    values[key] = value;
    origins.set(key, { key: from, file });
  };

  // ldap_uri, a space-separated list, overrides the older ldap_host/ldap_port/ldap_protocol.
  const uri = get('ldap_uri');
  if (uri.value !== '') set('uri', 'ldap_uri', uri.value, uri.file);
  else {
    const host = get('ldap_host');
    const uris = host.value.split(/\s+/).map((h) => `${get('ldap_protocol').value}://${h}:${get('ldap_port').value}`);
    set('uri', 'ldap_host', uris.join(' '), host.file);
  }
  const starttls = get('ldap_starttls');
  set('starttls', 'ldap_starttls', starttls.value, starttls.file);
  const bindUser = get('ldap_bind_user');
  if (bindUser.value !== '') set('bind_dn', 'ldap_bind_user', bindUser.value, bindUser.file);
  const bindPasswd = get('ldap_bind_passwd');
  if (bindPasswd.value !== '') set('bind_password', 'ldap_bind_passwd', bindPasswd.value, bindPasswd.file);
  const base = get('ldap_search_base');
  set('base', 'ldap_search_base', base.value, base.file);

  // Kopano finds a user with (&(objectClass=<type value>)<user search filter>(<login attr>=name));
  // a type value may list several classes separated by commas, all of which the entry must have.
  const typeAttr = get('ldap_object_type_attribute');
  const typeValue = get('ldap_user_type_attribute_value');
  const extra = get('ldap_user_search_filter');
  const login = get('ldap_loginname_attribute');
  if (typeValue.value === '') {
    throw new ConfigError(`${cfg.file}: ldap_user_type_attribute_value is not set (Kopano's own files set it: !include /usr/share/kopano/ldap.openldap.cfg or ldap.active-directory.cfg)`);
  }
  if (extra.value.includes(LOGIN_PLACEHOLDER)) {
    throw new ConfigError(`${extra.file}: ldap_user_search_filter: "${extra.value}" holds ${LOGIN_PLACEHOLDER}, which Kopano does not replace; the login is compared in ldap_loginname_attribute`);
  }
  const extraFilter = extra.value === '' ? '' : extra.value.startsWith('(') ? extra.value : `(${extra.value})`;
  const classes = typeValue.value.split(',').map((c) => c.trim()).filter((c) => c !== '').map((c) => `(${typeAttr.value}=${escapeFilterValue(c)})`).join('');
  set('filter', 'ldap_user_search_filter', `(&${classes}${extraFilter}(${login.value}=${LOGIN_PLACEHOLDER}))`, extra.file);
  set('login_attribute', 'ldap_loginname_attribute', login.value, login.file);
  const nonActive = get('ldap_nonactive_attribute');
  set('nonactive_attribute', 'ldap_nonactive_attribute', nonActive.value, nonActive.file);
  // Removed from Kopano in 2021 (bind only); older files may still say password.
  const method = get('ldap_authentication_method');
  set('auth_method', 'ldap_authentication_method', method.value, method.file);
  // Property tags are hex numbers: 0x67b3101e and 0x67B3101E are one tag.
  const features = (tags: string[]): KopanoValue | undefined => [...cfg.propmap]
    .find(([tag, v]) => tags.some((t) => t.toLowerCase() === tag.toLowerCase()) && v.value !== '')?.[1];
  const enabled = features(ENABLED_FEATURES_TAGS);
  if (enabled !== undefined) set('enabled_features_attribute', ENABLED_FEATURES_TAGS[0], enabled.value, enabled.file);
  const disabled = features(DISABLED_FEATURES_TAGS);
  if (disabled !== undefined) set('disabled_features_attribute', DISABLED_FEATURES_TAGS[0], disabled.value, disabled.file);
  // Kopano's server-wide disabled_features applies whatever the plugin.
  const serverDisabled = server.values.get('disabled_features');
  if (serverDisabled !== undefined) set('disabled_features', 'disabled_features', serverDisabled, server.file);

  // The [store] section's own keys win, and are reported as its own.
  for (const key of OWN_KEYS) {
    const v = r.optional(key);
    if (v === undefined) continue;
    values[key] = v;
    origins.delete(key);
  }
  const ldap = parseLdapSettings(new LdapCfgReader(r, values, origins, cfg.file));
  return { plugin: 'ldap', ldap, origins: describe(server, cfg, values, origins, r.file) };
}

function describe(server: ServerCfg, cfg: KopanoCfg, values: RawSection, origins: Map<string, Origin>, ownFile: string): string[] {
  const lines = [`user_plugin = ldap (${server.file}): the directory of ${cfg.file}`];
  for (const [key, value] of Object.entries(values)) {
    const o = origins.get(key);
    const shown = key === 'bind_password' ? '(set)' : value;
    lines.push(o === undefined ? `${key} = ${shown} (${ownFile})` : `${key} = ${shown} (${o.key}, ${o.file})`);
  }
  return lines;
}
