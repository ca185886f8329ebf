// Reads /etc/pam_mapi.conf (INI): the [worker] section validated, the store sections returned
// as they are for the store registry (src/stores/registry.ts) to read by their type. It knows
// no store, so reading the socket path (pam-mapi check) loads no database or LDAP library.
// Every problem is a ConfigError that names the file, the section and the key.
import ini from 'ini';
import { resolveId } from './accounts';
import { ConfigError } from './errors';
import { FileAccessError, iniHoldsSecret, readTrustedFile, secretKeyLines } from './permissions';
import { RawSection, SectionReader } from './section';
import { MODULE_TRANSPORT } from '../protocol/constants';
import { parseThrottle, ThrottleSettings } from './throttle';

export const DEFAULT_CONFIG_PATH = '/etc/pam_mapi.conf';
/** The module's default worker= (the shim has the same from constants.json). */
export const DEFAULT_SOCKET: string = MODULE_TRANSPORT.defaultSocket;
/** Room for every concurrent login of a busy mail server (Dovecot's auth workers and
 * saslauthd's processes each hold one connection at a time), and few enough descriptors. */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Per peer uid: saslauthd and Dovecot's auth processes usually share uid 0, so this is their
 * room together; an idle or hostile allowed uid cannot take more. */
export const DEFAULT_MAX_CONNECTIONS_PER_UID = 64;

export interface WorkerSettings {
  socket: string;
  socketMode: number;
  /** Group of the socket file, for socket_mode 0660 with e.g. the dovecot group. */
  socketGroup: number | null;
  allowedUids: number[];
  allowedGids: number[];
  storeTimeoutMs: number;
  /** How long after connecting a module may take to send every frame of its request. */
  clientTimeoutMs: number;
  /** Connections open at once, overall and from one peer uid; beyond them a connection is
   * answered with an ERROR (BUSY) at once. */
  maxConnections: number;
  maxConnectionsPerUid: number;
  /** The account request of a transaction is answered from what its authentication read, on
   * the same connection, when that is at most this old; 0: always ask the store. */
  accountReuseMs: number;
  /** Where one JSON line per decision goes; null: nowhere. */
  accountingLog: string | null;
  /** Where the Prometheus text is served (mode 0600); null: not served. */
  metricsSocket: string | null;
}

/** A [store] or [store.NAME] section, not read yet. */
export interface StoreSection {
  /** The section's header without brackets: "store" or "store.NAME". */
  header: string;
  values: RawSection;
}

export interface ConfigFile {
  file: string;
  worker: WorkerSettings;
  /** The [throttle] section (src/config/throttle.ts). */
  throttle: ThrottleSettings;
  /** By store name; the default store `[store]` is named "". With no store section at all, the
   * default store is an empty section (the embedded default). */
  storeSections: Map<string, StoreSection>;
}

export interface ReadOptions {
  /** A missing file at this path means the embedded defaults. */
  optional?: boolean;
  /** The keys that hold secrets in any store section (the registry gathers them from the store
   * descriptors): a file setting one must be private. */
  secretKeys: readonly string[];
}

type IniValue = string | boolean | IniObject;
interface IniObject {
  [key: string]: IniValue;
}

/** Reads the config file; a missing file means the embedded defaults when opts.optional. */
export function readConfig(file: string, opts: ReadOptions): ConfigFile {
  let text: string;
  try {
    // Checked before parsing: an unsafe file is the problem whatever else it says.
    text = readTrustedFile(file, { what: 'config file', holdsSecret: (t) => iniHoldsSecret(t, opts.secretKeys) });
  } catch (e) {
    if (e instanceof FileAccessError && e.code === 'ENOENT' && opts.optional) return parseConfigText('', file, opts.secretKeys);
    if (e instanceof FileAccessError) throw new ConfigError(`cannot read ${file}: ${e.errno.message}`);
    throw e;
  }
  return parseConfigText(text, file, opts.secretKeys);
}

export function parseConfigText(text: string, file: string, secretKeys: readonly string[]): ConfigFile {
  refuseAmbiguousSecrets(text, file, secretKeys);
  const tree = ini.parse(text) as IniObject;
  const sections = new Map<string, RawSection>();
  for (const [name, value] of Object.entries(tree)) {
    if (typeof value !== 'object' || value === null) throw new ConfigError(`${file}: ${name}: key outside of any section`);
    flatten(name, value, sections, file);
  }
  for (const name of sections.keys()) {
    if (name !== 'worker' && name !== 'throttle' && name !== 'store' && !name.startsWith('store.')) {
      throw new ConfigError(`${file}: [${name}]: unknown section (expected [worker], [throttle], [store] or [store.NAME])`);
    }
  }
  const worker = parseWorker(new SectionReader(file, 'worker', sections.get('worker') ?? {}));
  const throttle = parseThrottle(new SectionReader(file, 'throttle', sections.get('throttle') ?? {}));
  const storeSections = new Map<string, StoreSection>();
  const defaultSection = sections.get('store');
  const named = [...sections.keys()].filter((n) => n.startsWith('store.'));
  // The embedded default only when the config names no store at all; with only [store.NAME]
  // sections, a stanza without store= has no store and fails closed.
  if (defaultSection !== undefined || named.length === 0) storeSections.set('', { header: 'store', values: defaultSection ?? {} });
  for (const [name, values] of sections) {
    if (!name.startsWith('store.')) continue;
    const storeName = name.slice('store.'.length);
    if (storeName === 'default') throw new ConfigError(`${file}: [${name}]: "default" names the [store] section; give this store another name`);
    storeSections.set(storeName, { header: name, values });
  }
  return { file, worker, throttle, storeSections };
}

/** ini nests `[store.local]` under `store`; this turns it back into one section per header. */
function flatten(name: string, obj: IniObject, out: Map<string, RawSection>, file: string): void {
  const own: RawSection = {};
  for (const [key, value] of Object.entries(obj)) {
    // ini turns true/false/null into literals; they are text here (a password may be "null").
    if (typeof value === 'object' && value !== null) flatten(`${name}.${key}`, value, out, file);
    else own[key] = String(value);
  }
  // A parent ini made up for [store.local] alone is no section; an empty [x] with no children is.
  const hasChildren = Object.values(obj).some((v) => typeof v === 'object' && v !== null);
  if (Object.keys(own).length > 0 || (!hasChildren && !out.has(name))) out.set(name, own);
}

function parseWorker(r: SectionReader): WorkerSettings {
  const ids = (key: string, kind: 'user' | 'group', fallback: string[]): number[] =>
    r.list(key, fallback).map((v) => resolveId(kind, v) ?? r.fail(key, `no such ${kind} "${v}"`));
  const settings: WorkerSettings = {
    socket: r.string('socket', DEFAULT_SOCKET),
    socketMode: r.octal('socket_mode', 0o600),
    socketGroup: ((g) => (g === undefined ? null : resolveId('group', g) ?? r.fail('socket_group', `no such group "${g}"`)))(r.optional('socket_group')),
    allowedUids: ids('allowed_uids', 'user', ['0']),
    allowedGids: ids('allowed_groups', 'group', []),
    storeTimeoutMs: r.seconds('store_timeout', 5, 600),
    clientTimeoutMs: r.seconds('client_timeout', 30, 3600),
    maxConnections: r.integer('max_connections', DEFAULT_MAX_CONNECTIONS, 1, 65536),
    maxConnectionsPerUid: r.integer('max_connections_per_uid', DEFAULT_MAX_CONNECTIONS_PER_UID, 1, 65536),
    accountReuseMs: r.seconds('account_reuse', 5, 60, true),
    accountingLog: r.optional('accounting_log') ?? null,
    metricsSocket: r.optional('metrics_socket') ?? null,
  };
  if (settings.metricsSocket !== null && !settings.metricsSocket.startsWith('/')) r.fail('metrics_socket', `"${settings.metricsSocket}" is not an absolute path`);
  if (settings.accountingLog !== null && !settings.accountingLog.startsWith('/')) r.fail('accounting_log', `"${settings.accountingLog}" is not an absolute path`);
  if ((settings.socketMode & 0o002) !== 0) r.fail('socket_mode', 'a world-writable socket would let any local user ask for passwords to be checked');
  r.finish();
  return settings;
}

/** ini cuts a value at an unquoted `;` or `#`: a password containing one would be silently
 * shortened, so such a value must be quoted. */
function refuseAmbiguousSecrets(text: string, file: string, secretKeys: readonly string[]): void {
  for (const { lineNo, key, value } of secretKeyLines(text, secretKeys)) {
    if (/^["']/.test(value)) continue;
    // ini ends a value at the first unescaped ; or #, with or without a space before it.
    if (/^[;#]\S/.test(value) || /[^\s\\][;#]/.test(value)) {
      throw new ConfigError(`${file}:${lineNo}: ${key}: the value contains ";" or "#", which would start a comment; put the value in double quotes`);
    }
  }
}
