// The offline verifier cache of one store (offline_cache = yes): after a successful online
// check, an scrypt verifier of the password and the account state the store returned; used only
// when the store cannot answer. The policy's outcome table still decides: the cache answers the
// same facts a store would (found, password right, state, features).
//
// On disk: one file, mode 0600, owned by the worker's user, replaced atomically (temp file,
// fsync, rename, fsync of the directory), so a crash leaves the old file or the new one whole.
// Its first line carries a SHA-256 of the rest; a file that fails it or the strict parser is
// not used at all: an empty cache says no (PAM_AUTHINFO_UNAVAIL), never a wrong yes.
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { Fields, Level } from '../log/logger';
import { OfflineSettings } from '../config/offline';
import { AccountState, Lookup, StoreUser, Verification } from '../stores/store';

/** The cache holds at most this many users; the one whose last online login is oldest goes. */
export const MAX_ENTRIES = 100_000;
/** scrypt with N=2^14, r=8, p=1: 16 MiB and about 50 ms per verifier on a small server, so a
 * stolen file costs an attacker that much per guess per user, and no GPU shortcut. */
export const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_LEN = 32;
const SALT_LEN = 16;
const HEADER = 'pam_mapi offline cache v1 sha256=';
/** A change that makes the cache say no where it said yes (an account disabled or removed
 * online, a verifier retired, a wrong offline password counted) is written this soon. */
const WRITE_DELAY_MS = 50;
/** A change that only adds a yes (a new verifier, a renewal) waits this long, so a busy server
 * rewrites the file at most this often; a crash loses only these, and a user then finds the
 * previous verifier or none. */
const RENEW_DELAY_MS = 2000;
/** Verifiers computed after an online answer wait here, one at a time, so they never take the
 * threads an offline check (or the stores) needs; beyond this many waiting, new ones are
 * dropped (the user keeps the previous verifier, or none). */
const BACKGROUND_QUEUE = 10_000;
/** Made at start and never stored: the memos are worthless outside this process. */
const MEMO_KEY = crypto.randomBytes(32);
const memoOf = (password: Buffer): Buffer => crypto.createHmac('sha256', MEMO_KEY).update(password).digest();

export interface Entry {
  salt: Buffer;
  verifier: Buffer;
  login: string;
  state: AccountState;
  enabled: string[];
  disabled: string[];
  /** When the store last accepted this password (ms since the epoch). */
  onlineAt: number;
  failures: number;
  lockedUntil: number;
  /** In memory only, never written: HMAC-SHA256 of the password under a key made at start, so
   * a user who logs in online again with the same password costs no scrypt. */
  memo?: Buffer;
  /** In memory only, like memo: the last password that scrypt showed is not the verifier's,
   * so the same wrong password sent again online (a client retrying, a guesser repeating, which
   * the throttle does not count) costs no second scrypt. */
  notMemo?: Buffer;
}

export type OfflineAnswer =
  | { kind: 'verdict'; verification: Verification; ageMs: number }
  | { kind: 'locked'; untilMs: number }
  /** Not in the cache, or too old: the store's outage stands. */
  | { kind: 'none'; why: string };

type Log = (level: Level, event: string, fields?: Fields) => void;

function derive(password: Buffer, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, KEY_LEN, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const STATES: readonly AccountState[] = ['active', 'inactive', 'expired'];
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 64 && v.every((s) => typeof s === 'string' && s.length <= 256);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const b64 = (v: unknown, len: number): Buffer | null => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(v)) return null;
  const b = Buffer.from(v, 'base64');
  return b.length === len ? b : null;
};

function sameState(a: Pick<Entry, 'login' | 'state' | 'enabled' | 'disabled'>, b: Pick<Entry, 'login' | 'state' | 'enabled' | 'disabled'>): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.login === b.login && a.state === b.state && same(a.enabled, b.enabled) && same(a.disabled, b.disabled);
}

/** The entries of a cache file's text, or why it is refused. Exported for the tests. */
export function parseCacheText(text: string): Map<string, Entry> | string {
  const nl = text.indexOf('\n');
  if (nl < 0 || !text.startsWith(HEADER)) return 'no header';
  const sum = text.slice(HEADER.length, nl);
  const body = text.slice(nl + 1);
  if (sum !== crypto.createHash('sha256').update(body, 'utf8').digest('hex')) return 'checksum mismatch (damaged or truncated)';
  let rows: unknown;
  try {
    rows = JSON.parse(body);
  } catch {
    return 'not JSON';
  }
  if (!Array.isArray(rows) || rows.length > MAX_ENTRIES) return 'not a list of at most 100000 entries';
  const out = new Map<string, Entry>();
  for (const r of rows as unknown[]) {
    if (typeof r !== 'object' || r === null) return 'an entry is not an object';
    const o = r as Record<string, unknown>;
    const salt = b64(o.salt, SALT_LEN);
    const verifier = b64(o.verifier, KEY_LEN);
    if (typeof o.user !== 'string' || o.user === '' || o.user.length > 256 || typeof o.login !== 'string' || o.login.length > 256
      || salt === null || verifier === null || !STATES.includes(o.state as AccountState)
      || !isStrings(o.enabled) || !isStrings(o.disabled) || !isTime(o.onlineAt) || !isTime(o.failures) || !isTime(o.lockedUntil)
      || out.has(o.user)) return 'an entry is malformed';
    out.set(o.user, {
      salt, verifier, login: o.login, state: o.state as AccountState, enabled: o.enabled, disabled: o.disabled,
      onlineAt: o.onlineAt, failures: o.failures, lockedUntil: o.lockedUntil,
    });
  }
  return out;
}

export function cacheText(entries: Map<string, Entry>): string {
  const rows = [...entries].map(([user, e]) => ({
    user, login: e.login, salt: e.salt.toString('base64'), verifier: e.verifier.toString('base64'), state: e.state,
    enabled: e.enabled, disabled: e.disabled, onlineAt: e.onlineAt, failures: e.failures, lockedUntil: e.lockedUntil,
  }));
  const body = JSON.stringify(rows);
  return `${HEADER}${crypto.createHash('sha256').update(body, 'utf8').digest('hex')}\n${body}`;
}

/** Why the cache's directory or file may not be trusted, or null. Only the worker's own user
 * (or root, for the directory) may be able to change either. */
function untrusted(st: fs.Stats, what: string, dir: boolean): string | null {
  const uid = process.geteuid?.() ?? 0;
  if (dir ? !st.isDirectory() : !st.isFile()) return `${what} is not a ${dir ? 'directory' : 'regular file'}`;
  if (st.uid !== uid && !(dir && st.uid === 0)) return `${what} is owned by uid ${st.uid}, not the worker's (${uid})`;
  if ((st.mode & (dir ? 0o022 : 0o077)) !== 0) return `${what} has mode ${(st.mode & 0o777).toString(8)}; it must be ${dir ? 'writable' : 'readable'} only by its owner`;
  return null;
}

export class OfflineCache {
  private entries = new Map<string, Entry>();
  private dirty = false;
  private urgent = false;
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Set when the file may not be used: the cache then neither reads nor writes it. */
  private broken: string | null = null;
  /** A verifier to compare unknown users against, so they cost the same time as known ones. */
  private readonly decoy = { salt: crypto.randomBytes(SALT_LEN), verifier: crypto.randomBytes(KEY_LEN) };
  /** run does the work; drop wipes what it holds, when the queue is emptied at close. */
  private readonly queue: Array<{ run: () => Promise<void>; drop: () => void }> = [];
  /** Offline checks of one user run one after another, so parallel guesses cannot all pass
   * the lockout check before any of them is counted. */
  private readonly perUser = new Map<string, Promise<unknown>>();
  private timerDue = 0;
  private running = false;
  private saidBusy = false;

  constructor(
    /** Replaced on reload (a new max age, say); the entries stay. */
    public settings: OfflineSettings,
    private readonly log: Log,
    private readonly now: () => number = Date.now,
  ) {
    this.load();
  }

  get size(): number {
    return this.entries.size;
  }

  private load(): void {
    const file = this.settings.file;
    const dir = path.dirname(file);
    try {
      if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const why = untrusted(fs.lstatSync(dir), dir, true);
      if (why !== null) {
        this.broken = why;
        this.log('error', 'offline.cache_refused', { file, why });
        return;
      }
      let fd: number;
      try {
        fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      try {
        const bad = untrusted(fs.fstatSync(fd), file, false);
        if (bad !== null) {
          this.log('error', 'offline.cache_refused', { file, why: bad });
          return;
        }
        const parsed = parseCacheText(fs.readFileSync(fd, 'utf8'));
        if (typeof parsed === 'string') {
          this.log('error', 'offline.cache_refused', { file, why: parsed });
          return;
        }
        this.entries = new Map([...parsed].sort((a, b) => a[1].onlineAt - b[1].onlineAt));
        this.log('notice', 'offline.cache_loaded', { file, users: this.entries.size });
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      this.broken = (e as Error).message;
      this.log('error', 'offline.cache_refused', { file, why: this.broken });
    }
  }

  /** Runs job after the ones already waiting; false when the queue is full. */
  private background(run: () => Promise<void>, password: Buffer): boolean {
    if (this.queue.length >= BACKGROUND_QUEUE) {
      if (!this.saidBusy) this.log('warning', 'offline.cache_busy', { waiting: this.queue.length });
      this.saidBusy = true;
      return false;
    }
    this.queue.push({ run, drop: () => password.fill(0) });
    if (!this.running) void this.drain();
    return true;
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      await job.run().catch((e: Error) => this.log('error', 'offline.verifier_failed', { message: e.message }));
    }
    this.running = false;
    this.saidBusy = false;
  }

  /** After a successful online check (called after the answer was sent, with a copy of the
   * password, wiped here): the entry renewed. Its verifier is kept when the password is the
   * one it was made from (the memo says so, without scrypt); otherwise a new verifier is made
   * in the background. */
  remember(user: string, password: Buffer, found: StoreUser): void {
    const memo = memoOf(password);
    const e = this.entries.get(user);
    if (e?.memo !== undefined && crypto.timingSafeEqual(e.memo, memo)) {
      password.fill(0);
      const next: Entry = { ...e, ...this.stateOf(found), onlineAt: this.now(), failures: 0, lockedUntil: 0 };
      this.entries.delete(user);
      this.entries.set(user, next);
      // A renewal alone is written when it moves the entry's age by a hundredth of
      // offline_max_age: one login a minute would otherwise rewrite the file every minute.
      if (sameState(e, next) && e.failures === 0 && e.lockedUntil === 0 && next.onlineAt - e.onlineAt < this.settings.maxAgeMs / 100) return;
      this.changed(false);
      return;
    }
    const queued = this.background(async () => {
      try {
        const salt = crypto.randomBytes(SALT_LEN);
        const verifier = await derive(password, salt);
        this.entries.delete(user);
        while (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
        this.entries.set(user, { salt, verifier, ...this.stateOf(found), onlineAt: this.now(), failures: 0, lockedUntil: 0, memo });
        this.changed(false);
      } finally {
        password.fill(0);
      }
    }, password);
    if (!queued) password.fill(0);
  }

  private stateOf(found: StoreUser): Pick<Entry, 'login' | 'state' | 'enabled' | 'disabled'> {
    return { login: found.login, state: found.state, enabled: [...found.features.enabled], disabled: [...found.features.disabled] };
  }

  /** The store said this password is wrong: if it is the one the cache holds, the password
   * was changed online, and the old one must not work in a later outage. After the answer,
   * with a copy of the password, wiped here. */
  forgetIfMatches(user: string, password: Buffer): void {
    const e = this.entries.get(user);
    if (e === undefined) {
      password.fill(0);
      return;
    }
    const forget = (): void => {
      if (this.entries.get(user) === e) {
        this.entries.delete(user);
        this.changed();
      }
    };
    const memo = memoOf(password);
    // The verifier's own password is known: compare with it. Or this wrong one was judged already.
    if (e.memo !== undefined) {
      if (crypto.timingSafeEqual(e.memo, memo)) forget();
      password.fill(0);
      return;
    }
    if (e.notMemo !== undefined && crypto.timingSafeEqual(e.notMemo, memo)) {
      password.fill(0);
      return;
    }
    const queued = this.background(async () => {
      try {
        if (crypto.timingSafeEqual(await derive(password, e.salt), e.verifier)) forget();
        else e.notMemo = memo;
      } finally {
        password.fill(0);
      }
    }, password);
    if (!queued) password.fill(0);
  }

  /** Resolves when the background work queued so far is done (tests, and a clean stop). */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /** Any other online answer about the user: the store's word replaces what the cache holds,
   * so an account disabled (or removed) online is refused offline as soon as the store says so.
   * A wrong password online leaves the verifier alone (unless it was the verifier's, see
   * forgetIfMatches): only a right one replaces it. */
  observe(user: string, answer: Lookup): void {
    const e = this.entries.get(user);
    if (e === undefined) return;
    if (!answer.found) {
      this.entries.delete(user);
      this.changed();
      return;
    }
    const next = this.stateOf(answer.user);
    if (sameState(e, next)) return;
    Object.assign(e, next);
    this.changed();
  }

  private usable(user: string): { entry: Entry; ageMs: number } | { why: string } {
    const e = this.entries.get(user);
    if (e === undefined) return { why: 'no verifier for this user' };
    const ageMs = this.now() - e.onlineAt;
    if (ageMs > this.settings.maxAgeMs || ageMs < 0) return { why: 'verifier older than offline_max_age' };
    return { entry: e, ageMs };
  }

  private userOf(e: Entry): StoreUser {
    return { login: e.login, state: e.state, features: { enabled: e.enabled, disabled: e.disabled } };
  }

  /** The store is down: the password against the verifier, with the lockout. The caller keeps
   * the password until this resolves. */
  verify(user: string, password: Buffer): Promise<OfflineAnswer> {
    const before = this.perUser.get(user) ?? Promise.resolve();
    const mine = before.then(() => this.verifyNow(user, password));
    const settled = mine.catch(() => undefined);
    this.perUser.set(user, settled);
    void settled.then(() => { if (this.perUser.get(user) === settled) this.perUser.delete(user); });
    return mine;
  }

  private async verifyNow(user: string, password: Buffer): Promise<OfflineAnswer> {
    const u = this.usable(user);
    if ('why' in u) {
      // The same work as a known user, so the time does not tell who is cached.
      await derive(password, this.decoy.salt);
      return { kind: 'none', why: u.why };
    }
    const e = u.entry;
    const now = this.now();
    if (e.lockedUntil > now) return { kind: 'locked', untilMs: e.lockedUntil };
    // The password the verifier was made from, known to this process (an online login or an
    // offline one since it started): no scrypt, so repeated logins in an outage stay within
    // store_timeout on a busy host. Only the right password takes this path, so its speed
    // tells nothing the answer does not; a wrong one always pays the scrypt.
    const known = e.memo !== undefined && crypto.timingSafeEqual(e.memo, memoOf(password));
    const ok = known || crypto.timingSafeEqual(await derive(password, e.salt), e.verifier);
    if (ok) {
      if (e.failures !== 0 || e.lockedUntil !== 0) this.changed(false);
      e.failures = 0;
      e.lockedUntil = 0;
      e.memo = memoOf(password);
    } else {
      e.failures++;
      if (e.failures >= this.settings.failedAttempts) {
        e.failures = 0;
        e.lockedUntil = now + this.settings.lockoutMs;
        this.log('warning', 'offline.locked', { user, seconds: Math.round(this.settings.lockoutMs / 1000) });
      }
      this.changed();
    }
    return { kind: 'verdict', verification: { found: true, passwordOk: ok, user: this.userOf(e) }, ageMs: u.ageMs };
  }

  /** The store is down: the account state the store last reported. */
  lookup(user: string): OfflineAnswer {
    const u = this.usable(user);
    if ('why' in u) return { kind: 'none', why: u.why };
    return { kind: 'verdict', verification: { found: true, passwordOk: false, user: this.userOf(u.entry) }, ageMs: u.ageMs };
  }

  /** For the doctor and the log: how many users, the oldest and newest online login. */
  summary(): { users: number; oldest: number | null; newest: number | null } {
    let oldest: number | null = null;
    let newest: number | null = null;
    for (const e of this.entries.values()) {
      if (oldest === null || e.onlineAt < oldest) oldest = e.onlineAt;
      if (newest === null || e.onlineAt > newest) newest = e.onlineAt;
    }
    return { users: this.entries.size, oldest, newest };
  }

  /** urgent: the change makes the cache say no where it said yes (see WRITE_DELAY_MS). */
  private changed(urgent = true): void {
    this.dirty = true;
    this.urgent ||= urgent;
    if (this.broken !== null || this.writing !== null) return;
    const due = Date.now() + (this.urgent ? WRITE_DELAY_MS : RENEW_DELAY_MS);
    if (this.timer !== null) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, due - Date.now());
    this.timer.unref();
  }

  /** Writes the cache if it changed; waits for a write under way. */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
    if (!this.dirty || this.broken !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const urgent = this.urgent;
    this.dirty = false;
    this.urgent = false;
    this.writing = this.write().catch((e: Error) => {
      this.dirty = true;
      this.urgent ||= urgent;
      this.log('error', 'offline.cache_write_failed', { file: this.settings.file, message: e.message });
    }).finally(() => {
      this.writing = null;
      if (this.dirty) this.changed(this.urgent);
    });
    await this.writing;
  }

  private async write(): Promise<void> {
    const file = this.settings.file;
    const tmp = `${file}.tmp`;
    // A temp file left by a crash is ours to remove; O_EXCL|O_NOFOLLOW below refuses a link
    // planted in its place.
    await fs.promises.rm(tmp, { force: true });
    const fh = await fs.promises.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(cacheText(this.entries), 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    const dir = await fs.promises.open(path.dirname(file), fs.constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Stops: verifiers still waiting are dropped (their passwords wiped), the one being made
   * is finished, and the file is written. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.drop();
    await this.idle();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.flush();
  }
}

/** One cache per file for the worker's life, so a reload (SIGHUP) keeps the entries and two
 * generations never write one file. */
const open = new Map<string, OfflineCache>();

export function offlineCacheFor(settings: OfflineSettings, log: Log): OfflineCache {
  const have = open.get(settings.file);
  if (have !== undefined) {
    have.settings = settings;
    return have;
  }
  const c = new OfflineCache(settings, log);
  open.set(settings.file, c);
  return c;
}

export async function closeOfflineCaches(): Promise<void> {
  await Promise.allSettled([...open.values()].map((c) => c.close()));
}
