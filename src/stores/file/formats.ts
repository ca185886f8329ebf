// The users-file formats the file store reads (`format =`), one parser each: a line in, the
// user and its stored secret out, or why the line is wrong (which spoils only that user), or
// null for a line that is not this store's (htdigest: another realm).
//   pam_mapi  login:salted-md5[:enabled_features[:disabled_features]], "!" before the hash locks
//   htpasswd  Apache's: login:hash ($2y$ bcrypt, $apr1$, {SHA}, crypt $5$/$6$/$1$/DES, yescrypt)
//   htdigest  Apache's: login:realm:md5(login:realm:password), for `realm =` only
//   dovecot   Dovecot's passwd-file: login:{SCHEME}data[:uid:gid:gecos:home:shell:extra fields]
//   plain     login:password (Momentum's plain file); only with allow_plaintext = yes
import { cryptSupported } from '../crypt';
import { KNOWN_FEATURES, unknownFeatures } from '../features';
import { StoreUser } from '../store';
import { isZarafaHash } from '../zarafa-hash';
import { APR1_HASH } from './apr1';
import { argon2CostProblem } from './argon2';
import { StoredSecret } from './secrets';

export const FORMAT_NAMES = ['pam_mapi', 'htpasswd', 'htdigest', 'dovecot', 'plain'] as const;
export type FormatName = typeof FORMAT_NAMES[number];

export interface ParsedLine {
  user: StoreUser;
  secret: StoredSecret;
}

export interface UsersFormat {
  name: FormatName;
  /** The entry, why the line is wrong, or null when the line is not this store's. */
  parse(line: string): ParsedLine | string | null;
  /** A line that surely parses, tested without building its parts (pam_mapi: 100,000 users
   * load with little garbage); absent: every line is parsed at load. */
  fastPath?: RegExp;
}

export interface FormatOptions {
  realm: string | null;
  allowPlaintext: boolean;
}

const NO_FEATURES = (): StoreUser['features'] => ({ enabled: [], disabled: [] });
const active = (login: string): StoreUser => ({ login, state: 'active', features: NO_FEATURES() });
const PLAINTEXT_REFUSED = 'a password in clear text, which this store reads only with allow_plaintext = yes';

const pamMapi: UsersFormat = {
  name: 'pam_mapi',
  parse(line) {
    const [login, hashField, enabled = '', disabled = '', ...extra] = line.split(':');
    if (extra.length > 0 || hashField === undefined) return 'expected login:salted-md5[:enabled[:disabled]]';
    if (login === '') return 'empty login';
    const locked = hashField.startsWith('!');
    const hash = locked ? hashField.slice(1) : hashField;
    if (!isZarafaHash(hash)) return 'the password is not a Zarafa salted MD5 value (40 hex digits; make one with pam-mapi hash)';
    const list = (s: string): string[] => s.split(/[\s,]+/).filter((f) => f !== '');
    // A misspelled disabled feature would leave the feature on for this user.
    const wrong = unknownFeatures([...list(enabled), ...list(disabled)]);
    if (wrong !== null) return wrong.problem;
    return { secret: { kind: 'zarafa', hash }, user: { login, state: locked ? 'inactive' : 'active', features: { enabled: list(enabled), disabled: list(disabled) } } };
  },
  fastPath: new RegExp(`^[^:]+:!?[0-9a-f]{40}(?::[\\s,]*(?:${`(?:${KNOWN_FEATURES.join('|')})`}(?:[\\s,]+(?:${KNOWN_FEATURES.join('|')}))*[\\s,]*)?){0,2}$`, 'i'),
};

/** A crypt(3) string the system's libcrypt checks, or why not. */
function cryptSecret(hash: string, what: string): StoredSecret | string {
  return cryptSupported(hash) ? { kind: 'crypt', hash } : `${what} is not a crypt(3) string this system's libcrypt knows`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The digest (and salt) of a {SCHEME} value: hex when it is exactly a digest in hex, else base64. */
function digestSecret(algorithm: string, size: number, salted: boolean, data: string, name: string, preferHex = false): StoredSecret | string {
  let bytes: Buffer | null = null;
  if ((preferHex || !salted) && /^[0-9a-fA-F]+$/.test(data) && data.length === 2 * size) bytes = Buffer.from(data, 'hex');
  else if (BASE64.test(data)) bytes = Buffer.from(data, 'base64');
  if (bytes === null || (salted ? bytes.length <= size : bytes.length !== size)) return `a malformed {${name}} value`;
  return { kind: 'digest', algorithm, digest: bytes.subarray(0, size), salt: bytes.subarray(size) };
}

const htpasswd: UsersFormat = {
  name: 'htpasswd',
  parse(line) {
    // Apache reads the hash up to the next colon; anything after it is not its business.
    const [login, hash] = line.split(':');
    if (hash === undefined) return 'expected login:hash';
    if (login === '') return 'empty login';
    if (hash.startsWith('$apr1$')) return APR1_HASH.test(hash) ? { secret: { kind: 'apr1', hash }, user: active(login) } : 'a malformed $apr1$ hash';
    if (hash.startsWith('{SHA}')) {
      const s = digestSecret('sha1', 20, false, hash.slice(5), 'SHA');
      return typeof s === 'string' ? s : { secret: s, user: active(login) };
    }
    // htpasswd -p writes the password itself, which Apache on Unix never accepts either.
    const s = cryptSecret(hash, 'the hash');
    if (typeof s === 'string') return `${s} (htpasswd's $2y$, $apr1$, {SHA}, $5$, $6$ or crypt; plain text is not accepted)`;
    return { secret: s, user: active(login) };
  },
};

function htdigest(realm: string): UsersFormat {
  return {
    name: 'htdigest',
    parse(line) {
      const fields = line.split(':');
      if (fields.length !== 3) return 'expected login:realm:md5';
      const [login, lineRealm, hex] = fields;
      if (lineRealm !== realm) return null;
      if (login === '') return 'empty login';
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) return 'the digest is not 32 hex digits';
      return { secret: { kind: 'htdigest', prefix: `${login}:${realm}:`, hex }, user: active(login) };
    },
  };
}

const DIGEST_SCHEMES: Readonly<Record<string, { algorithm: string; size: number; salted: boolean; hex?: boolean }>> = {
  'SHA': { algorithm: 'sha1', size: 20, salted: false },
  'SHA1': { algorithm: 'sha1', size: 20, salted: false },
  'SSHA': { algorithm: 'sha1', size: 20, salted: true },
  'SHA256': { algorithm: 'sha256', size: 32, salted: false },
  'SSHA256': { algorithm: 'sha256', size: 32, salted: true },
  'SHA512': { algorithm: 'sha512', size: 64, salted: false },
  'SSHA512': { algorithm: 'sha512', size: 64, salted: true },
  'SMD5': { algorithm: 'md5', size: 16, salted: true },
  'LDAP-MD5': { algorithm: 'md5', size: 16, salted: false },
  'PLAIN-MD5': { algorithm: 'md5', size: 16, salted: false, hex: true },
};
/** Dovecot's crypt(3) schemes ("MD5" is MD5-crypt in Dovecot). */
const CRYPT_SCHEMES = ['CRYPT', 'DES-CRYPT', 'MD5', 'MD5-CRYPT', 'SHA256-CRYPT', 'SHA512-CRYPT', 'BLF-CRYPT'];
const PLAIN_SCHEMES = ['PLAIN', 'CLEAR', 'CLEARTEXT'];
const ARGON2_SCHEMES = ['ARGON2I', 'ARGON2ID'];
/** passdb extra fields that restrict a login in Dovecot but that this store cannot apply: a
 * line with one is refused rather than let the user in from anywhere. */
const UNENFORCEABLE = ['allow_nets', 'allow_real_nets'];

function dovecotSecret(field: string, opts: FormatOptions): StoredSecret | string {
  const m = /^\{([A-Za-z0-9-]+)(?:\.(b64|base64|hex))?\}([\s\S]*)$/.exec(field);
  // Without a {SCHEME}, Dovecot's passwd-file reads a crypt(3) string.
  if (m === null) return cryptSecret(field, 'the password (without a {SCHEME})');
  const name = m[1].toUpperCase();
  const data = m[3];
  if (CRYPT_SCHEMES.includes(name)) return cryptSecret(data, `the {${name}} value`);
  const digest = Object.hasOwn(DIGEST_SCHEMES, name) ? DIGEST_SCHEMES[name] : undefined;
  if (digest !== undefined) return digestSecret(digest.algorithm, digest.size, digest.salted, data, name, m[2] === 'hex' || (m[2] === undefined && digest.hex === true));
  if (PLAIN_SCHEMES.includes(name)) {
    if (!opts.allowPlaintext) return PLAINTEXT_REFUSED;
    return { kind: 'plain', value: Buffer.from(data, 'utf8') };
  }
  if (ARGON2_SCHEMES.includes(name)) {
    if (!/^\$argon2id?\$v=19\$m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,10}\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(data)) return `a malformed {${name}} value`;
    const cost = argon2CostProblem(data);
    return cost === null ? { kind: 'argon2', hash: data } : `{${name}}: ${cost}`;
  }
  return `the scheme {${name}} is not supported (supported: ${[...CRYPT_SCHEMES, ...Object.keys(DIGEST_SCHEMES), ...ARGON2_SCHEMES, ...PLAIN_SCHEMES].join(' ')})`;
}

function dovecot(opts: FormatOptions): UsersFormat {
  return {
    name: 'dovecot',
    parse(line) {
      const fields = line.split(':');
      const [login, password] = fields;
      if (password === undefined) return 'expected login:{SCHEME}password[:uid:gid:gecos:home:shell:extra fields]';
      if (login === '') return 'empty login';
      const extra = fields.slice(7).join(':').split(/\s+/).filter((f) => f !== '');
      const key = (f: string): string => f.split('=')[0].toLowerCase();
      if (extra.some((f) => key(f) === 'nopassword')) return 'nopassword: this store never logs a user in without a password';
      const unenforced = extra.find((f) => UNENFORCEABLE.includes(key(f)));
      if (unenforced !== undefined) return `${key(unenforced)}: a restriction this store cannot apply`;
      if (password === '') return 'an empty password field';
      const secret = dovecotSecret(password, opts);
      if (typeof secret === 'string') return secret;
      const nologin = extra.some((f) => key(f) === 'nologin' && !/^nologin=(n|no|false|0)$/i.test(f));
      return { secret, user: { login, state: nologin ? 'inactive' : 'active', features: NO_FEATURES() } };
    },
  };
}

const plain: UsersFormat = {
  name: 'plain',
  parse(line) {
    const colon = line.indexOf(':');
    if (colon < 0) return 'expected login:password';
    if (colon === 0) return 'empty login';
    const value = line.slice(colon + 1);
    if (value === '') return 'an empty password';
    return { secret: { kind: 'plain', value: Buffer.from(value, 'utf8') }, user: active(line.slice(0, colon)) };
  },
};

export function usersFormat(name: FormatName, opts: FormatOptions): UsersFormat {
  switch (name) {
    case 'pam_mapi': return pamMapi;
    case 'htpasswd': return htpasswd;
    case 'htdigest': return htdigest(opts.realm ?? '');
    case 'dovecot': return dovecot(opts);
    case 'plain': return plain;
  }
}
