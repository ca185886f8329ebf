// File safety rules, as ssh applies them to private keys. A file the worker trusts (the config,
// a users file, a password file, Kopano's server.cfg) must be:
//  - a regular file, opened without following a symbolic link (O_NOFOLLOW, then fstat of the
//    opened descriptor: what is checked is what is read, with no lstat/open race);
//  - owned by root or by the worker's own user, and not writable by group or others;
//  - reached through directories that only root or the worker's user can write, from / down
//    (whoever may write a directory may replace the file in it); a root-owned sticky directory
//    such as /tmp counts as safe for entries owned by root or the worker, which no one else may
//    rename or remove there;
//  - when it holds a secret, not readable by others, and readable by its group only when that
//    group is the worker's own (root:pam-mapi 0640), or, for Kopano's server.cfg, a group the
//    worker belongs to (root:kopano 0640).
// Every refusal is a ConfigError that says what is wrong and the command that fixes it.
import fs from 'fs';
import path from 'path';
import ini from 'ini';
import { resolveId } from './accounts';
import { ConfigError } from './errors';
import { WORKER_USER } from '../protocol/constants';

// WORKER_USER: the dedicated system user the worker runs as. A worker or CLI run as root also
// trusts it, so that `pam-mapi doctor` (run as root) judges the files as the worker will.

/** Who the worker is, for these rules. */
export interface WorkerIdentity {
  /** Owners a trusted file or directory may have: root and the worker's user. */
  uids: ReadonlySet<number>;
  /** The worker's own groups: a secret may be readable by them. */
  ownGids: ReadonlySet<number>;
  /** Every group the worker belongs to (for Kopano's server.cfg). */
  memberGids: ReadonlySet<number>;
  /** Root reads every file whatever its group: Kopano's root:kopano server.cfg is fine then. */
  isRoot: boolean;
}

export function workerIdentity(): WorkerIdentity {
  const euid = process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;
  const uids = new Set([0, euid]);
  const ownGids = new Set([egid]);
  const memberGids = new Set([egid, ...(process.getgroups?.() ?? [])]);
  if (euid === 0) {
    const uid = resolveId('user', WORKER_USER);
    if (uid !== undefined) uids.add(uid);
    const gid = primaryGid(WORKER_USER);
    if (gid !== undefined) { ownGids.add(gid); memberGids.add(gid); }
    for (const g of groupsListing(WORKER_USER)) memberGids.add(g);
  }
  return { uids, ownGids, memberGids, isRoot: euid === 0 };
}

/** Who may read a secret held by the file besides its owner. */
export type GroupRead = 'own-group' | 'member-group';

export interface TrustRule {
  /** What the file is, for messages: "config file", "users file", "password file". */
  what: string;
  /** Whether the file, given its text, holds a secret (then others must not read it). */
  holdsSecret: boolean | ((text: string) => boolean);
  /** Which group may read a secret: the worker's own (default), or any it belongs to. */
  groupRead?: GroupRead;
}

/** A file that cannot be opened (missing, unreadable): its errno code stays visible. */
export class FileAccessError extends ConfigError {
  readonly code: string | undefined;
  constructor(what: string, file: string, readonly errno: NodeJS.ErrnoException) {
    super(`${what} ${file}: ${errno.message}`);
    this.code = errno.code;
  }
}

/** What a check saw of the file, to tell later whether it changed. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function sameFile(a: FileIdentity | null, b: FileIdentity): boolean {
  return a !== null && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** Reads a trusted file, or throws a ConfigError saying why it is not trusted. */
export function readTrustedFile(file: string, rule: TrustRule, id: WorkerIdentity = workerIdentity()): string {
  return openTrustedFile(file, rule, id, () => true).text as string;
}

/** Checks a trusted file and reads it only when `changed` says its identity differs from what
 * was read before; `text` is null when it did not change. The checks run every time. */
export function openTrustedFile(
  file: string,
  rule: TrustRule,
  id: WorkerIdentity,
  changed: (st: FileIdentity) => boolean,
): { identity: FileIdentity; text: string | null; stat: fs.Stats } {
  const real = safeRoute(file, rule.what, id);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put in the file's place must not hang the worker in open().
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw symlinkError(rule.what, file);
    throw new FileAccessError(rule.what, file, e as NodeJS.ErrnoException);
  }
  try {
    const st = fs.fstatSync(fd);
    checkFileStat(file, st, rule, id, false);
    const identity: FileIdentity = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    if (!changed(identity)) return { identity, text: null, stat: st };
    const text = fs.readFileSync(fd, 'utf8');
    const secret = typeof rule.holdsSecret === 'function' ? rule.holdsSecret(text) : rule.holdsSecret;
    if (secret) checkFileStat(file, st, rule, id, true);
    return { identity, text, stat: st };
  } finally {
    fs.closeSync(fd);
  }
}

/** For files read later by a library (CA bundles), by their path. Symbolic links are followed
 * (/etc/ssl/certs is made of them), and the file they lead to must deserve trust as a file the
 * worker reads itself does: its owner, its mode and every directory above it (whoever could
 * replace a CA could impersonate the store's server). */
export function checkTrustedFile(file: string, holdsSecret: boolean, what: string, id: WorkerIdentity = workerIdentity()): void {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    throw new ConfigError(`${what} ${file}: ${(e as Error).message}`);
  }
  try {
    readTrustedFile(real, { what, holdsSecret }, id);
  } catch (e) {
    if (real === file || !(e instanceof ConfigError)) throw e;
    throw new ConfigError(`${e.message} (reached through the link ${file})`, e.fix);
  }
}

/** Whether an INI text gives a non-empty value to one of `secretKeys`, in any section and
 * however the key is written (plain, "quoted", 'quoted', key[]). Two readings, either enough:
 * the ini parser's own (what the loader will see) and a line scan (should the parser and this
 * ever disagree, the stricter answer wins). */
export function iniHoldsSecret(text: string, secretKeys: readonly string[]): boolean {
  return secretKeyLines(text, secretKeys).some((l) => l.value.replace(/(^|\s)[;#].*$/, '').replace(/^(["'])\1$/, '').trim() !== '')
    || parsedHoldsSecret(ini.parse(text) as Record<string, unknown>, secretKeys);
}

/** The lines that set one of `secretKeys`, with the value as written. */
export function secretKeyLines(text: string, secretKeys: readonly string[]): Array<{ lineNo: number; key: string; value: string }> {
  const found: Array<{ lineNo: number; key: string; value: string }> = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(["']?)\s*([A-Za-z_]+)\s*\1\s*(?:\[\])?\s*=\s*(.*)$/.exec(line);
    if (m !== null && secretKeys.includes(m[2].toLowerCase())) found.push({ lineNo: i + 1, key: m[2], value: m[3].replace(/\r$/, '') });
  });
  return found;
}

function parsedHoldsSecret(obj: Record<string, unknown>, secretKeys: readonly string[]): boolean {
  for (const [key, value] of Object.entries(obj)) {
    if (secretKeys.includes(key.trim().toLowerCase())) {
      if (typeof value === 'string' ? value !== '' : value !== undefined && value !== null && value !== false) return true;
    }
    if (typeof value === 'object' && value !== null && parsedHoldsSecret(value as Record<string, unknown>, secretKeys)) return true;
  }
  return false;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function ownerText(uid: number): string {
  const name = nameOf('/etc/passwd', uid);
  return name === undefined ? `uid ${uid}` : `${name} (uid ${uid})`;
}

function groupText(gid: number): string {
  const name = nameOf('/etc/group', gid);
  return name === undefined ? `gid ${gid}` : `${name} (gid ${gid})`;
}

function symlinkError(what: string, file: string): ConfigError {
  return new ConfigError(`${what} ${file} is a symbolic link: refusing it (whoever may change the link chooses the file); name the file itself in the config, see readlink -f ${file}`);
}

/** The rules for the file itself, on what fstat said of the opened descriptor. */
function checkFileStat(file: string, st: fs.Stats, rule: TrustRule, id: WorkerIdentity, secret: boolean): void {
  const mode = modeText(st.mode);
  if (!st.isFile()) throw new ConfigError(`${rule.what} ${file} is not a regular file: refusing it`);
  if (!id.uids.has(st.uid)) {
    throw new ConfigError(`${rule.what} ${file} is owned by ${ownerText(st.uid)}, not by root or the worker's user: refusing it (its owner could change it); run chown root ${file}`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new ConfigError(`${rule.what} ${file} is writable by group or others (mode ${mode}): refusing it; run chmod go-w ${file}`);
  }
  if (!secret) return;
  if ((st.mode & 0o004) !== 0) {
    throw new ConfigError(`${rule.what} ${file} holds a password and is readable by group or others (mode ${mode}): refusing it; run chmod 600 ${file}`);
  }
  if ((st.mode & 0o040) !== 0) {
    const groupOk = rule.groupRead === 'member-group' ? id.isRoot || id.memberGids.has(st.gid) : id.ownGids.has(st.gid);
    if (!groupOk) {
      throw new ConfigError(`${rule.what} ${file} holds a password and is readable by group or others (mode ${mode}), and its group ${groupText(st.gid)} is not the worker's: refusing it; run chmod 600 ${file}`);
    }
  }
}

/** Walks `file` from / with lstat, following the symbolic links of its directories, and checks
 * every directory on the way. Returns the path with no links left in it, which the caller opens
 * with O_NOFOLLOW. A link as the last part is refused. */
function safeRoute(file: string, what: string, id: WorkerIdentity): string {
  const pending = path.resolve(file).split('/').filter((p) => p !== '');
  if (pending.length === 0) throw new ConfigError(`${what} ${file} is not a regular file: refusing it`);
  let current = '/';
  let currentSt = lstatOrThrow(current, file, what);
  checkDirectory(current, currentSt, file, what, id);
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      current = path.dirname(current);
      currentSt = lstatOrThrow(current, file, what);
      continue;
    }
    const next = path.join(current, part);
    const isLast = pending.length === 0;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch (e) {
      throw new FileAccessError(what, file, e as NodeJS.ErrnoException);
    }
    // In a sticky directory others may write (such as /tmp), only an entry's owner may rename
    // or remove it: the entry must be root's or the worker's.
    if ((currentSt.mode & 0o022) !== 0 && !id.uids.has(st.uid)) {
      throw new ConfigError(`${what} ${file}: ${next} is owned by ${ownerText(st.uid)} in ${current}, which others may write: refusing it; run chown root ${next}`);
    }
    if (st.isSymbolicLink()) {
      // The file's own name must not be a link; its directories may be (their targets are
      // walked and checked like the rest).
      if (isLast) throw symlinkError(what, file);
      if (++links > 40) throw new ConfigError(`${what} ${file}: too many symbolic links`);
      const target = fs.readlinkSync(next);
      const parts = target.split('/').filter((p) => p !== '');
      if (target.startsWith('/')) {
        current = '/';
        currentSt = lstatOrThrow(current, file, what);
      }
      pending.unshift(...parts);
      continue;
    }
    if (pending.length === 0) return next;
    if (!st.isDirectory()) throw new FileAccessError(what, file, Object.assign(new Error(`ENOTDIR: ${next} is not a directory`), { code: 'ENOTDIR' }));
    checkDirectory(next, st, file, what, id);
    current = next;
    currentSt = st;
  }
  return current;
}

function lstatOrThrow(dir: string, file: string, what: string): fs.Stats {
  try {
    return fs.lstatSync(dir);
  } catch (e) {
    throw new FileAccessError(what, file, e as NodeJS.ErrnoException);
  }
}

function checkDirectory(dir: string, st: fs.Stats, file: string, what: string, id: WorkerIdentity): void {
  if (!id.uids.has(st.uid)) {
    throw new ConfigError(`${what} ${file}: its directory ${dir} is owned by ${ownerText(st.uid)}, not by root or the worker's user: refusing it (whoever may write the directory may replace the file); run chown root ${dir}`);
  }
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !(sticky && st.uid === 0)) {
    throw new ConfigError(`${what} ${file}: its directory ${dir} is writable by group or others (mode ${modeText(st.mode)}): refusing it (whoever may write the directory may replace the file); run chmod go-w ${dir}`);
  }
}

/** A name from /etc/passwd or /etc/group, for messages only. */
function nameOf(accountFile: string, id: number): string | undefined {
  try {
    for (const line of fs.readFileSync(accountFile, 'utf8').split('\n')) {
      const parts = line.split(':');
      if (parts.length > 2 && parts[2] === String(id)) return parts[0];
    }
  } catch {
    // No name then; the number says enough.
  }
  return undefined;
}

function primaryGid(user: string): number | undefined {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const parts = line.split(':');
      if (parts[0] === user && parts.length > 3 && /^[0-9]+$/.test(parts[3])) return Number(parts[3]);
    }
  } catch {
    // No such user file: nothing to add.
  }
  return undefined;
}

function groupsListing(user: string): number[] {
  const gids: number[] = [];
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const parts = line.split(':');
      if (parts.length > 3 && /^[0-9]+$/.test(parts[2]) && parts[3].split(',').includes(user)) gids.push(Number(parts[2]));
    }
  } catch {
    // No group file: nothing to add.
  }
  return gids;
}
