// The `type = zarafa` section, merged with the Kopano/Zarafa server.cfg it may name.
// Keys in pam_mapi.conf win over server.cfg; server.cfg wins over Kopano's own defaults.
import fs from 'fs';
import { ConfigError } from '../../config/errors';
import { checkTrustedFile, readTrustedFile } from '../../config/permissions';
import { SectionReader } from '../../config/section';
import { ALLOW_CLEARTEXT, allowCleartext, isLoopbackHost } from '../cleartext';
import { featureList, KOPANO_DEFAULT_DISABLED, unknownFeatures } from '../features';
import { KopanoLdapSettings, ldapPluginSettings } from './ldap-plugin';
import { readServerCfg, ServerCfg } from './server-cfg';

/** Debian's MariaDB and MySQL socket. */
export const DEFAULT_MYSQL_SOCKET = '/run/mysqld/mysqld.sock';

/** One database server to try, in order. */
export type Endpoint = { kind: 'socket'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface ZarafaSettings {
  endpoints: Endpoint[];
  user: string;
  password: string;
  database: string;
  disabledFeatures: string[];
  poolSize: number;
  sslCa: string | null;
  /** Keep a login-name index in the worker (see login-index.ts). */
  loginIndex: boolean;
  /** How often the index re-reads every login name: the longest a renamed user waits. */
  loginIndexRefreshMs: number;
  unknownLoginCacheMs: number;
}

function parseHost(r: SectionReader, key: string, spec: string, defaultPort: number): Endpoint {
  const m = /^(\[[^\]]+\]|[^:]+)(?::([0-9]+))?$/.exec(spec);
  if (m === null || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) r.fail(key, `"${spec}" is not a host or host:port`);
  const host = m[1].replace(/^\[|\]$/g, '');
  // As libmysqlclient (and so Kopano) does: "localhost" without a port means the local socket.
  if (host === 'localhost' && m[2] === undefined && fs.existsSync(DEFAULT_MYSQL_SOCKET)) return { kind: 'socket', path: DEFAULT_MYSQL_SOCKET };
  return { kind: 'tcp', host, port: m[2] === undefined ? defaultPort : Number(m[2]) };
}

/** What a `type = zarafa` section is: Kopano's database, or, when its server.cfg says
 * `user_plugin = ldap`, the directory of the server's ldap.cfg (ldap-plugin.ts). */
export type KopanoServerSettings = ZarafaSettings | KopanoLdapSettings;

/** `type = zarafa` means "the users of this Kopano server", as the original pam_mapi logged on
 * to the server whatever plugin it used: server_cfg decides where they are. */
export function parseKopanoServerSettings(r: SectionReader): KopanoServerSettings {
  const cfgFile = r.optional('server_cfg');
  // Kopano's server.cfg must not be writable by others, who could point the lookups at a
  // database or directory of their own; readServerCfg checks it as a trusted file.
  const cfg = cfgFile === undefined ? undefined : readServerCfg(cfgFile);
  const plugin = cfg?.values.get('user_plugin') || 'db';
  if (cfg !== undefined && plugin === 'ldap') return ldapPluginSettings(r, cfg);
  return parseZarafaSettings(r, cfg);
}

export function isLdapPlugin(s: KopanoServerSettings): s is KopanoLdapSettings {
  return 'plugin' in s && s.plugin === 'ldap';
}

/** Why a unix-plugin host is not served here: said as the config error. */
export function unixPluginAdvice(file: string): string {
  return `${file}: user_plugin = unix: this Kopano server takes its users from the system (passwd and shadow, unix.cfg's uid range and non_login_shell); `
    + 'their passwords are checked by pam_unix.so, which reads /etc/shadow through its setuid helper unix_chkpwd and applies shadow\'s locks and expiry, '
    + 'while the pam_mapi worker runs as its own unprivileged user and must not read /etc/shadow: stack pam_unix.so in /etc/pam.d/SERVICE instead of pam_mapi.so '
    + '(with pam_succeed_if.so uid >= min_user_uid and pam_shells.so for unix.cfg\'s rules), or use a type = file or type = ldap store';
}

export function parseZarafaSettings(r: SectionReader, given?: ServerCfg): ZarafaSettings {
  const cfgFile = r.optional('server_cfg');
  const cfg = given ?? (cfgFile === undefined ? undefined : readServerCfg(cfgFile));
  const fromCfg = (key: string): string | undefined => {
    const v = cfg?.values.get(key);
    return v === undefined || v === '' ? undefined : v;
  };
  if (cfg !== undefined) {
    const plugin = fromCfg('user_plugin') ?? 'db';
    if (plugin === 'unix') throw new ConfigError(unixPluginAdvice(cfg.file), 'pam_unix.so (see pam_mapi.conf(5), "user_plugin = unix")');
    if (plugin !== 'db') {
      throw new ConfigError(`${cfg.file}: user_plugin = ${plugin}: this host keeps its users in "${plugin}", not in the database; use a type = ldap store for a directory`);
    }
  }

  const cfgPort = fromCfg('mysql_port');
  if (cfgPort !== undefined && !/^[0-9]{1,5}$/.test(cfgPort)) throw new ConfigError(`${cfg?.file}: mysql_port = ${cfgPort} is not a port number`);
  const port = r.has('port') ? r.integer('port', 3306, 1, 65535) : Number(cfgPort ?? 3306);
  // Our keys win over server.cfg: our socket, else our host, else server.cfg's socket, else its host.
  const ownSocket = r.optional('socket');
  const ownHost = r.optional('host');
  const sockets = ownSocket ?? (ownHost === undefined ? fromCfg('mysql_socket') : undefined);
  const hosts = ownHost ?? fromCfg('mysql_host') ?? 'localhost';
  const endpoints: Endpoint[] = sockets !== undefined
    ? sockets.split(/\s+/).map((path) => ({ kind: 'socket', path }))
    : hosts.split(/\s+/).map((h) => parseHost(r, 'host', h, port));

  let password = r.optional('password');
  const passwordFile = r.optional('password_file');
  if (password !== undefined && passwordFile !== undefined) r.fail('password_file', 'give either password or password_file, not both');
  if (passwordFile !== undefined) {
    password = readTrustedFile(passwordFile, { what: 'password file', holdsSecret: true }).replace(/\r?\n$/, '');
  }
  password ??= fromCfg('mysql_password') ?? '';

  const sslCa = r.optional('ssl_ca') ?? null;
  if (sslCa !== null) checkTrustedFile(sslCa, false, 'ssl_ca');
  // Without TLS an on-path host can rewrite the password hash in the answer and log anyone in
  // with a password of its choosing: a host over the network needs ssl_ca, or an explicit yes.
  const remote = endpoints.find((e): e is Extract<Endpoint, { kind: 'tcp' }> => e.kind === 'tcp' && !isLoopbackHost(e.host));
  if (!allowCleartext(r) && sslCa === null && remote !== undefined) {
    const from = ownHost === undefined ? ` (mysql_host of ${cfgFile})` : '';
    r.fail('host', `${remote.host}:${remote.port}${from} is reached over the network without TLS, where anyone on the path can read the answers and forge them (a password hash of their choosing logs anyone in): set ssl_ca = FILE (the CA of the database server's certificate), or ${ALLOW_CLEARTEXT} = yes to accept that risk`);
  }
  const cfgDisabled = cfg?.values.get('disabled_features')?.split(/\s+/).filter((s) => s !== '');
  const cfgWrong = cfgDisabled === undefined ? null : unknownFeatures(cfgDisabled);
  // Refused even where pam_mapi.conf sets its own list: the same typo leaves the feature on in
  // Kopano's own gateway, and the two lists are meant to agree.
  if (cfg !== undefined && cfgWrong !== null) {
    throw new ConfigError(`${cfg.file}: disabled_features: ${cfgWrong.problem}`, `edit ${cfg.file}: disabled_features = ${cfgWrong.fixed ?? ''}`.trim());
  }
  return {
    endpoints,
    user: r.optional('user') ?? fromCfg('mysql_user') ?? 'root',
    password,
    database: r.optional('database') ?? fromCfg('mysql_database') ?? 'kopano',
    disabledFeatures: featureList(r, 'disabled_features', cfgDisabled ?? KOPANO_DEFAULT_DISABLED),
    poolSize: r.integer('pool_size', 4, 1, 256),
    sslCa,
    loginIndex: r.boolean('login_index', true),
    loginIndexRefreshMs: r.integer('login_index_refresh', 60, 1, 3600) * 1000,
    unknownLoginCacheMs: r.integer('unknown_login_cache', 10, 0, 3600) * 1000,
  };
}
