// The `file` store: a small users file, one user a line:
//   login:salted-md5[:enabled_features[:disabled_features]]
// A hash starting with "!" marks a locked account (as in /etc/shadow). Logins match
// case-insensitively, as Kopano's own. The file is re-read when it changes, checked at most
// once a second, so an edit takes effect without a restart and a request costs no file read.
import fs from 'fs';
import { SectionReader } from '../config/section';
import { ConfigError } from '../config/errors';
import { checkTrustedFile } from '../config/permissions';
import { KOPANO_DEFAULT_DISABLED } from './features';
import { Lookup, Store, StoreUnavailableError, StoreUser, Verification } from './store';
import { isZarafaHash, verifyZarafaHash } from './zarafa-hash';
import { foldLogin } from './login';

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

export function parseUsersFile(text: string, path: string): Map<string, FileEntry> {
  const users = new Map<string, FileEntry>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${path}:${i + 1}`;
    const [login, hashField, enabled = '', disabled = '', ...extra] = line.split(':');
    if (extra.length > 0 || hashField === undefined) throw new ConfigError(`${where}: expected login:salted-md5[:enabled[:disabled]]`);
    if (login === '') throw new ConfigError(`${where}: empty login`);
    const locked = hashField.startsWith('!');
    const hash = locked ? hashField.slice(1) : hashField;
    if (!isZarafaHash(hash)) throw new ConfigError(`${where}: the password is not a Zarafa salted MD5 value (40 hex digits; make one with pam-mapi hash)`);
    const key = foldLogin(login);
    if (users.has(key)) throw new ConfigError(`${where}: login "${login}" appears twice (logins match without regard to case)`);
    const list = (s: string): string[] => s.split(/[\s,]+/).filter((f) => f !== '');
    users.set(key, {
      hash,
      user: { login, state: locked ? 'inactive' : 'active', features: { enabled: list(enabled), disabled: list(disabled) } },
    });
  });
  return users;
}

export class FileStore implements Store {
  readonly type = 'file';
  readonly defaultDisabledFeatures: readonly string[];
  private users = new Map<string, FileEntry>();
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
    return this.users.get(foldLogin(login));
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
