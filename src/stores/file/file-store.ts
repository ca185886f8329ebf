// The `file` store: a small users file, one user a line:
//   login:salted-md5[:enabled_features[:disabled_features]]
// A hash starting with "!" marks a locked account (as in /etc/shadow). Logins match
// case-insensitively, as Kopano's own. The file is re-read when it changes, checked at most
// once a second, so an edit takes effect without a restart and a request costs no file read.
import fs from 'fs';
import { SectionReader } from '../../config/section';
import { ConfigError } from '../../config/errors';
import { checkTrustedFile } from '../../config/permissions';
import { KOPANO_DEFAULT_DISABLED } from '../features';
import { Lookup, Store, StoreUnavailableError, StoreUser, Verification } from '../store';
import { isZarafaHash, verifyZarafaHash } from '../zarafa-hash';
import { foldLogin } from '../login';

export const DEFAULT_USERS_FILE = '/etc/pam_mapi/users';
const RECHECK_MS = 1000;

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
    disabledFeatures: r.list('disabled_features', KOPANO_DEFAULT_DISABLED),
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
  return { hash, user: { login, state: locked ? 'inactive' : 'active', features: { enabled: list(enabled), disabled: list(disabled) } } };
}

/** A line parseLine() accepts, checked without building its parts: loading 100,000 users
 * then leaves little garbage behind, and the worker's heap stays small. */
const PLAIN_LINE = /^[^:]+:!?[0-9a-f]{40}(?::[^:]*){0,2}$/i;

/** The users by folded login, each kept as its checked line and parsed again when asked for:
 * at 100,000 users the parsed objects took about 430 bytes a user, the line takes about 60. */
export function parseUsersFile(text: string, path: string): Map<string, string> {
  const users = new Map<string, string>();
  let lineNo = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '' || line.startsWith('#')) continue;
    if (!PLAIN_LINE.test(line)) {
      const why = parseLine(line);
      if (typeof why === 'string') throw new ConfigError(`${path}:${lineNo}: ${why}`);
    }
    const login = line.slice(0, line.indexOf(':'));
    const key = foldLogin(login);
    if (users.has(key)) throw new ConfigError(`${path}:${lineNo}: login "${login}" appears twice (logins match without regard to case)`);
    // A copy, so the line does not keep the whole file's text alive as a sliced string.
    users.set(key, Buffer.from(line, 'utf8').toString('utf8'));
  }
  return users;
}

export class FileStore implements Store {
  readonly type = 'file';
  readonly defaultDisabledFeatures: readonly string[];
  private users = new Map<string, string>();
  private loadedMtimeMs = -1;
  private checkedAt = 0;
  private loadError: string | null = null;

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
    const line = this.users.get(foldLogin(login));
    if (line === undefined) return undefined;
    const entry = parseLine(line);
    // Every kept line passed parseLine's rules at load; should one not, say so rather than
    // answer "unknown user".
    if (typeof entry === 'string') throw new StoreUnavailableError(`users file ${this.settings.path}: ${entry}`);
    return entry;
  }

  /** At start a bad file is a config error; later, the last good contents keep serving. */
  private reload(atStart: boolean): void {
    try {
      const st = fs.statSync(this.settings.path);
      if (st.mtimeMs === this.loadedMtimeMs) return;
      checkTrustedFile(this.settings.path, false, 'users file');
      this.users = parseUsersFile(fs.readFileSync(this.settings.path, 'utf8'), this.settings.path);
      this.loadedMtimeMs = st.mtimeMs;
      this.loadError = null;
    } catch (e) {
      const message = e instanceof ConfigError ? e.message : `users file ${this.settings.path}: ${(e as Error).message}`;
      if (atStart) throw new ConfigError(message);
      if (this.loadedMtimeMs < 0) this.loadError = message;
      else this.onReloadError(`${message}; keeping the users loaded before`);
    }
  }
}
