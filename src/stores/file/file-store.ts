// The `file` store: a small users file, one user a line:
//   login:salted-md5[:enabled_features[:disabled_features]]
// A hash starting with "!" marks a locked account (as in /etc/shadow). Logins match
// case-insensitively, as Kopano's own. The file is re-read when it changes, checked at most
// once a second, so an edit takes effect without a restart and a request costs no file read.
// The store never answers from older contents than the file's: see reload().
import { SectionReader } from '../../config/section';
import { ConfigError } from '../../config/errors';
import { FileIdentity, openTrustedFile, sameFile, workerIdentity } from '../../config/permissions';
import { featureList, KNOWN_FEATURES, KOPANO_DEFAULT_DISABLED, unknownFeatures } from '../features';
import { Lookup, Store, StoreUnavailableError, StoreUser, Verification } from '../store';
import { isZarafaHash, verifyZarafaHash } from '../zarafa-hash';
import { foldLogin } from '../login';

export const DEFAULT_USERS_FILE = '/etc/pam_mapi/users';
const RECHECK_MS = 1000;
/** Salted hashes only: readable by all is fine, writable by others is not (config/permissions.ts). */
const USERS_FILE_RULE = { what: 'users file', holdsSecret: false } as const;
/** Wrong lines logged at one change: a file of garbage must not flood the log. */
const MAX_LOGGED_PROBLEMS = 10;

export interface FileStoreSettings {
  path: string;
  disabledFeatures: string[];
}

interface FileEntry {
  user: StoreUser;
  hash: string;
}

export function parseFileStoreSettings(r: SectionReader): FileStoreSettings {
  return {
    path: r.string('path', DEFAULT_USERS_FILE),
    disabledFeatures: featureList(r, 'disabled_features', KOPANO_DEFAULT_DISABLED),
  };
}

/** One line's fields, or why the line is wrong. */
function parseLine(line: string): FileEntry | string {
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
  return { hash, user: { login, state: locked ? 'inactive' : 'active', features: { enabled: list(enabled), disabled: list(disabled) } } };
}

/** A line parseLine() accepts, checked without building its parts: loading 100,000 users
 * then leaves little garbage behind, and the worker's heap stays small. */
const FEATURE = `(?:${KNOWN_FEATURES.join('|')})`;
const PLAIN_LINE = new RegExp(`^[^:]+:!?[0-9a-f]{40}(?::[\\s,]*(?:${FEATURE}(?:[\\s,]+${FEATURE})*[\\s,]*)?){0,2}$`, 'i');

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
export function parseUsersFile(text: string, path: string): UsersFile {
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
    if (!PLAIN_LINE.test(line)) {
      const parsed = parseLine(line);
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

  constructor(
    private readonly settings: FileStoreSettings,
    private readonly onReloadError: (message: string) => void = () => {},
  ) {
    this.defaultDisabledFeatures = settings.disabledFeatures;
    this.reload(true);
  }

  async verify(login: string, password: Buffer): Promise<Verification> {
    const entry = this.find(login);
    if (entry === undefined) return { found: false };
    return { found: true, passwordOk: verifyZarafaHash(entry.hash, password), user: entry.user };
  }

  async lookup(login: string): Promise<Lookup> {
    const entry = this.find(login);
    return entry === undefined ? { found: false } : { found: true, user: entry.user };
  }

  async close(): Promise<void> {}

  private find(login: string): FileEntry | undefined {
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
    const entry = parseLine(line);
    // Every kept line passed parseLine's rules at load; should one not, say so rather than
    // answer "unknown user".
    if (typeof entry === 'string') throw new StoreUnavailableError(`users file ${this.settings.path}: ${entry}`);
    return entry;
  }

  /** At start, an unsafe, unreadable or malformed file is a config error. Later the store never
   * answers from older contents than the file's: an unsafe or unreadable file stops every
   * answer until it is safe again, and a wrong line stops only its own user's. Ownership and
   * mode are checked at every recheck (a chmod changes no modification time). */
  private reload(atStart: boolean): void {
    try {
      const { identity, text } = openTrustedFile(this.settings.path, USERS_FILE_RULE, this.identity, (st) => !sameFile(this.loaded, st));
      if (text !== null) {
        const contents = parseUsersFile(text, this.settings.path);
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

