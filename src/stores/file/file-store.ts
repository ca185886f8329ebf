// The `file` store: a small users file, one user a line, in one of the formats of formats.ts:
// pam_mapi's own (login:salted-md5[:enabled_features[:disabled_features]], "!" before the hash
// locks the account, as in /etc/shadow), Apache's htpasswd and htdigest, Dovecot's passwd-file,
// or plain text where the admin allows it. Logins match case-insensitively, as Kopano's own.
// The file is re-read when it changes, checked at most once a second, so an edit takes effect
// without a restart and a request costs no file read.
// The store never answers from older contents than the file's: see reload().
import { SectionReader } from '../../config/section';
import { ConfigError } from '../../config/errors';
import { FileIdentity, openTrustedFile, sameFile, workerIdentity } from '../../config/permissions';
import { featureList, KOPANO_DEFAULT_DISABLED } from '../features';
import { Lookup, Store, StoreUnavailableError, Verification } from '../store';
import { foldLogin } from '../login';
import { loadArgon2 } from './argon2';
import { FORMAT_NAMES, FormatName, ParsedLine, usersFormat, UsersFormat } from './formats';
import { verifySecret } from './secrets';

export const DEFAULT_USERS_FILE = '/etc/pam_mapi/users';
const RECHECK_MS = 1000;
/** Hashes: readable by all is fine, writable by others is not (config/permissions.ts); a file
 * that may hold plain-text passwords (allow_plaintext) is a secret. */
const usersFileRule = (plaintext: boolean): { what: string; holdsSecret: boolean } => ({ what: 'users file', holdsSecret: plaintext });
/** Wrong lines logged at one change: a file of garbage must not flood the log. */
const MAX_LOGGED_PROBLEMS = 10;

export interface FileStoreSettings {
  path: string;
  disabledFeatures: string[];
  format: FormatName;
  /** htdigest: the realm whose lines are this store's users. */
  realm: string | null;
  /** Plain-text passwords ({PLAIN} lines, format = plain) are read only when the admin says so. */
  allowPlaintext: boolean;
}

export function parseFileStoreSettings(r: SectionReader): FileStoreSettings {
  const format = r.choice<FormatName>('format', 'pam_mapi', FORMAT_NAMES);
  const realm = r.optional('realm') ?? null;
  if (format === 'htdigest' && realm === null) r.fail('realm', 'is required with format = htdigest (the realm of the htdigest lines that are this store\'s users)');
  if (format !== 'htdigest' && realm !== null) r.fail('realm', 'applies only to format = htdigest');
  if (realm !== null && realm.includes(':')) r.fail('realm', 'an htdigest realm has no ":"');
  const allowPlaintext = r.boolean('allow_plaintext', false);
  if (format === 'plain' && !allowPlaintext) r.fail('format', 'plain holds passwords as they are typed: anyone who reads the file (or a backup of it) has them all; set allow_plaintext = yes to accept that');
  if (allowPlaintext && format !== 'plain' && format !== 'dovecot') r.fail('allow_plaintext', `format = ${format} has no passwords in clear text`);
  return {
    path: r.string('path', DEFAULT_USERS_FILE),
    disabledFeatures: featureList(r, 'disabled_features', KOPANO_DEFAULT_DISABLED),
    format,
    realm,
    allowPlaintext,
  };
}

/** What a users file says: the users by folded login, each kept as its checked line and parsed
 * again when asked for (at 100,000 users the parsed objects took about 430 bytes a user, the
 * line takes about 60); the logins whose line is wrong, with why; and every problem, by line. */
export interface UsersFile {
  users: Map<string, string>;
  /** Folded logins that a wrong line names: they get no answer, never an older one. */
  broken: Map<string, string>;
  problems: string[];
}

/** Reads every line; a wrong line spoils only the user it names (or none, when it names none). */
export function parseUsersFile(text: string, path: string, format: UsersFormat = usersFormat('pam_mapi', { realm: null, allowPlaintext: false })): UsersFile {
  const users = new Map<string, string>();
  const broken = new Map<string, string>();
  const problems: string[] = [];
  let lineNo = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const login = colon < 0 ? line : line.slice(0, colon);
    const key = foldLogin(login);
    let why: string | null = null;
    if (format.fastPath === undefined || !format.fastPath.test(line)) {
      const parsed = format.parse(line);
      // Not this store's line (htdigest: another realm).
      if (parsed === null) continue;
      if (typeof parsed === 'string') why = `${path}:${lineNo}: ${parsed}`;
    }
    if (why === null && (users.has(key) || broken.has(key))) why = `${path}:${lineNo}: login "${login}" appears twice (logins match without regard to case)`;
    if (why !== null) {
      problems.push(why);
      if (login !== '') {
        broken.set(key, why);
        users.delete(key);
      }
      continue;
    }
    // A copy, so the line does not keep the whole file's text alive as a sliced string.
    users.set(key, Buffer.from(line, 'utf8').toString('utf8'));
  }
  return { users, broken, problems };
}

export class FileStore implements Store {
  readonly type = 'file';
  readonly defaultDisabledFeatures: readonly string[];
  private contents: UsersFile = { users: new Map(), broken: new Map(), problems: [] };
  private loaded: FileIdentity | null = null;
  private checkedAt = 0;
  /** Why no lookup can be answered now (the file became unsafe or unreadable), or null. */
  private loadError: string | null = null;
  private readonly identity = workerIdentity();
  private readonly format: UsersFormat;
  private readonly rule: { what: string; holdsSecret: boolean };

  constructor(
    private readonly settings: FileStoreSettings,
    private readonly onReloadError: (message: string) => void = () => {},
  ) {
    this.defaultDisabledFeatures = settings.disabledFeatures;
    this.format = usersFormat(settings.format, { realm: settings.realm, allowPlaintext: settings.allowPlaintext });
    this.rule = usersFileRule(settings.allowPlaintext);
    this.reload(true);
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    const entry = this.find(login);
    if (entry === undefined) {
      // An unknown name costs what a known one does: the first user's check runs, its answer
      // unused, so the time of a refusal does not tell which names exist (bcrypt, yescrypt and
      // argon2 take tens of milliseconds).
      const decoy = this.decoy();
      if (decoy !== undefined) await verifySecret(decoy.secret, password, signal, loadArgon2).catch(() => false);
      return { found: false };
    }
    try {
      return { found: true, passwordOk: await verifySecret(entry.secret, password, signal, loadArgon2), user: entry.user };
    } catch (e) {
      // The scheme cannot be checked now (the addon missing, a request that gave up): no answer.
      throw new StoreUnavailableError(`users file ${this.settings.path}: ${(e as Error).message}`);
    }
  }

  private decoy(): ParsedLine | undefined {
    const first = this.contents.users.values().next();
    if (first.done === true) return undefined;
    const parsed = this.format.parse(first.value);
    return parsed === null || typeof parsed === 'string' ? undefined : parsed;
  }

  async lookup(login: string): Promise<Lookup> {
    const entry = this.find(login);
    return entry === undefined ? { found: false } : { found: true, user: entry.user };
  }

  async close(): Promise<void> {}

  private find(login: string): ParsedLine | undefined {
    const now = Date.now();
    if (now - this.checkedAt >= RECHECK_MS) {
      this.checkedAt = now;
      this.reload(false);
    }
    if (this.loadError !== null) throw new StoreUnavailableError(this.loadError);
    const key = foldLogin(login);
    const broken = this.contents.broken.get(key);
    if (broken !== undefined) throw new StoreUnavailableError(`${broken}; this user gets no answer until the line is fixed`);
    const line = this.contents.users.get(key);
    if (line === undefined) return undefined;
    const entry = this.format.parse(line);
    // Every kept line passed the format's rules at load; should one not, say so rather than
    // answer "unknown user".
    if (entry === null || typeof entry === 'string') throw new StoreUnavailableError(`users file ${this.settings.path}: ${entry ?? 'not a line of this store'}`);
    return entry;
  }

  /** At start, an unsafe, unreadable or malformed file is a config error. Later the store never
   * answers from older contents than the file's: an unsafe or unreadable file stops every
   * answer until it is safe again, and a wrong line stops only its own user's. Ownership and
   * mode are checked at every recheck (a chmod changes no modification time). */
  private reload(atStart: boolean): void {
    try {
      const { identity, text } = openTrustedFile(this.settings.path, this.rule, this.identity, (st) => !sameFile(this.loaded, st));
      if (text !== null) {
        const contents = parseUsersFile(text, this.settings.path, this.format);
        if (atStart && contents.problems.length > 0) throw new ConfigError(contents.problems[0]);
        this.contents = contents;
        this.loaded = identity;
        for (const problem of contents.problems.slice(0, MAX_LOGGED_PROBLEMS)) this.onReloadError(`${problem}; the user of that line gets no answer until it is fixed, the other lines are in use`);
        const more = contents.problems.length - MAX_LOGGED_PROBLEMS;
        if (more > 0) this.onReloadError(`users file ${this.settings.path}: ${more} more wrong lines`);
      }
      this.loadError = null;
    } catch (e) {
      const message = e instanceof ConfigError ? e.message : `users file ${this.settings.path}: ${(e as Error).message}`;
      if (atStart) throw new ConfigError(message);
      // Forget the old contents: a revocation must never be undone by serving them.
      this.contents = { users: new Map(), broken: new Map(), problems: [] };
      this.loaded = null;
      if (this.loadError !== message) this.onReloadError(`${message}; every lookup gets no answer (PAM_AUTHINFO_UNAVAIL) until it is fixed`);
      this.loadError = message;
    }
  }
}

