// The offline verifier cache and the circuit breaker against decide() itself: a store that
// answers, is down or hangs; no root, no libpam, no server. The same cases run with real MariaDB
// and slapd in test/integration/offline-cache.test.ts.
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { SectionReader } from '../../src/config/section';
import { OfflineSettings, readOfflineSettings, readResilienceSettings, ResilienceSettings } from '../../src/config/offline';
import { Fields, Level } from '../../src/log/logger';
import { PamRequest } from '../../src/protocol/messages';
import { AccountState, Lookup, Store, StoreUnavailableError, Verification } from '../../src/stores/store';
import { Circuit, FAILURES_TO_OPEN, PROBE_EVERY_MS } from '../../src/worker/circuit';
import { cacheText, Entry, MAX_ENTRIES, OfflineCache, parseCacheText } from '../../src/worker/offline-cache';
import { decide, Outcome, PolicyContext } from '../../src/worker/policy';
import { checkOfflineCaches } from '../../src/doctor/offline';
import { parseConfig } from '../../src/stores/registry';
import { SystemRoot } from '../../src/system/root';

interface User { password: string; state: AccountState }

class FakeStore implements Store {
  readonly type = 'fake';
  readonly defaultDisabledFeatures: readonly string[] = [];
  asked = 0;
  mode: 'answer' | 'down' | 'hang' = 'answer';
  constructor(readonly users: Map<string, User>) {}

  private async act(signal: AbortSignal): Promise<void> {
    this.asked++;
    if (this.mode === 'down') throw new StoreUnavailableError('connect ECONNREFUSED 127.0.0.1:3306');
    if (this.mode === 'hang') await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new StoreUnavailableError('aborted'))));
  }

  async verify(login: string, password: Buffer, signal: AbortSignal): Promise<Verification> {
    await this.act(signal);
    const u = this.users.get(login);
    if (u === undefined) return { found: false };
    return { found: true, passwordOk: password.equals(Buffer.from(u.password)), user: { login, state: u.state, features: { enabled: [], disabled: [] } } };
  }

  async lookup(login: string, signal: AbortSignal): Promise<Lookup> {
    await this.act(signal);
    const u = this.users.get(login);
    return u === undefined ? { found: false } : { found: true, user: { login, state: u.state, features: { enabled: [], disabled: [] } } };
  }

  async close(): Promise<void> {}
}

/** The password as the module sends it after libpam's prompt; none for an account request. */
const request = (op: 'authenticate' | 'account', user: string, password = ''): PamRequest => ({
  op, service: 'smtp', user: Buffer.from(user), rhost: '203.0.113.50', ruser: '', tty: '', logname: '', uid: 0, euid: 0, args: [], argsTruncated: false,
  password: op === 'authenticate' ? { kind: 'ok', from: 'prompt', secret: Buffer.from(password) } : null,
});

const logs: string[] = [];
const log = (level: Level, event: string, fields?: Fields): void => { logs.push(`${level} ${event} ${JSON.stringify(fields ?? {})}`); };

let dir: string;
let store: FakeStore;
let clock: number;
let cache: OfflineCache;
let circuit: Circuit;

function settings(extra: Partial<OfflineSettings> = {}): OfflineSettings {
  return { file: path.join(dir, 'offline-default.cache'), maxAgeMs: 3_600_000, failedAttempts: 3, lockoutMs: 60_000, ...extra };
}

function ctx(withCache = true): PolicyContext {
  return {
    stores: new Map([['', store]]), storeTimeoutMs: 300, configFile: '/etc/pam_mapi.conf', accountReuseMs: 0,
    resilience: { circuit: () => circuit, cache: () => (withCache ? cache : undefined) },
  };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

const auth = (user: string, password: string, c = ctx()): Promise<Outcome> => decide(request('authenticate', user, password), c);
const account = (user: string, c = ctx()): Promise<Outcome> => decide(request('account', user), c);

/** alice logs in online; the verifier is computed after the answer. */
async function online(user = 'alice', password = 'wonderland'): Promise<void> {
  store.mode = 'answer';
  const o = await auth(user, password);
  expect(o.result).toBe('SUCCESS');
  expect(o.offline).toBeUndefined();
  // The renewal runs after the answer (setImmediate), the verifier in the background.
  await new Promise((r) => setImmediate(r));
  await cache.idle();
  await until(() => cache.summary().users > 0 && cache.lookup(user).kind === 'verdict');
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offline-unit-'));
  store = new FakeStore(new Map([['alice', { password: 'wonderland', state: 'active' }], ['bob', { password: 'builder', state: 'active' }]]));
  clock = Date.now();
  logs.length = 0;
  cache = new OfflineCache(settings(), log, () => clock);
  // A circuit that never opens within a test unless the test says so.
  circuit = new Circuit(store, () => 300, log);
});

afterEach(async () => {
  circuit.stop();
  await cache.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('offline verifier cache', () => {
  test('with the cache off, a store that is down is PAM_AUTHINFO_UNAVAIL as before', async () => {
    await online();
    store.mode = 'down';
    const o = await auth('alice', 'wonderland', ctx(false));
    expect(o.result).toBe('AUTHINFO_UNAVAIL');
    expect(o.offline).toBeUndefined();
  });

  test('a user who logged in online logs in while the store is down, marked offline', async () => {
    await online();
    store.mode = 'down';
    const o = await auth('alice', 'wonderland');
    expect(o).toMatchObject({ result: 'SUCCESS', offline: true });
    // The module's syslog line (and pam-mapi check) says so.
    expect(o.logs).toContainEqual({ level: 'NOTICE', text: 'store unavailable: answered from the offline cache; user=alice' });
    // The account call during the outage answers from the cached state too.
    expect(await account('alice')).toMatchObject({ result: 'SUCCESS', offline: true });
  });

  test('a right password the process already matched costs no scrypt; a wrong one always does', async () => {
    await online();
    store.mode = 'down';
    const scrypt = jest.spyOn(crypto, 'scrypt');
    try {
      expect(await auth('alice', 'wonderland')).toMatchObject({ result: 'SUCCESS', offline: true });
      expect(scrypt).not.toHaveBeenCalled();
      expect((await auth('alice', 'not-wonderland')).result).toBe('AUTH_ERR');
      expect(scrypt).toHaveBeenCalledTimes(1);
    } finally {
      scrypt.mockRestore();
    }
  });

  test('a store that hangs: the cache answers after store_timeout', async () => {
    await online();
    store.mode = 'hang';
    expect(await auth('alice', 'wonderland')).toMatchObject({ result: 'SUCCESS', offline: true });
  });

  test('the cache never answers for a store that answers: an online no wins', async () => {
    await online();
    store.users.set('alice', { password: 'changed', state: 'active' });
    expect((await auth('alice', 'wonderland')).result).toBe('AUTH_ERR');
    // The old password was the cached one: it is forgotten, so a later outage does not revive it.
    await until(() => cache.lookup('alice').kind === 'none');
    store.mode = 'down';
    expect((await auth('alice', 'wonderland')).result).toBe('AUTHINFO_UNAVAIL');
  });

  test('after a restart (no memo in memory), a password changed online still retires the old verifier', async () => {
    await online();
    await cache.close();
    cache = new OfflineCache(settings(), log, () => clock);
    store.users.set('alice', { password: 'changed', state: 'active' });
    expect((await auth('alice', 'wonderland')).result).toBe('AUTH_ERR');
    await until(() => cache.lookup('alice').kind === 'none');
  });

  test('the same password online again renews the entry without a new scrypt; a new one replaces the verifier', async () => {
    await online();
    await cache.close();
    const first = (parseCacheText(fs.readFileSync(settings().file, 'utf8')) as Map<string, Entry>).get('alice') as Entry;
    // Within a hundredth of offline_max_age (36 s of 1 h) the renewal is not worth a write.
    clock += 1000;
    await online();
    await cache.close();
    expect((parseCacheText(fs.readFileSync(settings().file, 'utf8')) as Map<string, Entry>).get('alice')?.onlineAt).toBe(first.onlineAt);
    clock += 60_000;
    await online();
    await cache.close();
    const again = (parseCacheText(fs.readFileSync(settings().file, 'utf8')) as Map<string, Entry>).get('alice') as Entry;
    expect(again.salt.equals(first.salt)).toBe(true);
    expect(again.onlineAt).toBe(first.onlineAt + 61_000);
    store.users.set('alice', { password: 'new-one', state: 'active' });
    await online('alice', 'new-one');
    await cache.close();
    const changed = (parseCacheText(fs.readFileSync(settings().file, 'utf8')) as Map<string, Entry>).get('alice') as Entry;
    expect(changed.salt.equals(first.salt)).toBe(false);
    store.mode = 'down';
    expect((await auth('alice', 'wonderland')).result).toBe('AUTH_ERR');
    expect((await auth('alice', 'new-one')).result).toBe('SUCCESS');
  });

  test('a wrong password online does not erase the verifier of the right one', async () => {
    await online();
    expect((await auth('alice', 'guess')).result).toBe('AUTH_ERR');
    await new Promise((r) => setTimeout(r, 200));
    store.mode = 'down';
    expect((await auth('alice', 'wonderland')).result).toBe('SUCCESS');
  });

  test('a user never seen online is not answered offline', async () => {
    await online();
    store.mode = 'down';
    const o = await auth('bob', 'builder');
    expect(o.result).toBe('AUTHINFO_UNAVAIL');
    expect(o.reason).toMatch(/no verifier for this user/);
  });

  test('wrong passwords offline are refused, counted, and lock the user offline', async () => {
    await online();
    store.mode = 'down';
    for (let i = 0; i < 3; i++) expect(await auth('alice', `guess-${i}`)).toMatchObject({ result: 'AUTH_ERR', offline: true });
    const locked = await auth('alice', 'wonderland');
    expect(locked).toMatchObject({ result: 'AUTH_ERR', offline: true });
    expect(locked.reason).toMatch(/locked offline/);
    expect(logs.filter((l) => l.includes('offline.locked'))).toHaveLength(1);
    clock += 60_001;
    expect((await auth('alice', 'wonderland')).result).toBe('SUCCESS');
  });

  test('parallel wrong passwords offline are counted one by one: no more guesses than the limit', async () => {
    await online();
    store.mode = 'down';
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => auth('alice', `parallel-guess-${i}`)));
    expect(outcomes.every((o) => o.result === 'AUTH_ERR')).toBe(true);
    expect(outcomes.filter((o) => /locked offline/.test(o.reason))).toHaveLength(5);
  });

  test('an entry older than offline_max_age is not used', async () => {
    await online();
    store.mode = 'down';
    clock += 3_600_001;
    const o = await auth('alice', 'wonderland');
    expect(o.result).toBe('AUTHINFO_UNAVAIL');
    expect(o.reason).toMatch(/older than offline_max_age/);
    expect((await account('alice')).result).toBe('AUTHINFO_UNAVAIL');
  });

  test('an account disabled online is refused offline once the store said so', async () => {
    await online();
    store.users.set('alice', { password: 'wonderland', state: 'inactive' });
    expect((await account('alice')).result).toBe('PERM_DENIED');
    store.mode = 'down';
    expect((await auth('alice', 'wonderland')).result).toBe('PERM_DENIED');
    expect((await account('alice')).result).toBe('PERM_DENIED');
  });

  test('a user removed from the store is forgotten', async () => {
    await online();
    store.users.delete('alice');
    expect((await account('alice')).result).toBe('USER_UNKNOWN');
    store.mode = 'down';
    expect((await auth('alice', 'wonderland')).result).toBe('AUTHINFO_UNAVAIL');
  });

  test('the file survives a restart, mode 0600, and holds no password', async () => {
    await online();
    await cache.close();
    const st = fs.statSync(settings().file);
    expect(st.mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(settings().file, 'utf8')).not.toContain('wonderland');
    cache = new OfflineCache(settings(), log, () => clock);
    store.mode = 'down';
    expect((await auth('alice', 'wonderland')).result).toBe('SUCCESS');
    expect((await auth('alice', 'builder')).result).toBe('AUTH_ERR');
  });

  test('a damaged, truncated or loosely protected file is not used at all', async () => {
    await online();
    await cache.close();
    const file = settings().file;
    const good = fs.readFileSync(file, 'utf8');
    const tries: Array<[string, () => void]> = [
      ['truncated', () => fs.writeFileSync(file, good.slice(0, good.length - 10), { mode: 0o600 })],
      ['one byte changed', () => fs.writeFileSync(file, good.replace('"active"', '"activf"'), { mode: 0o600 })],
      ['readable by others', () => { fs.writeFileSync(file, good); fs.chmodSync(file, 0o644); }],
    ];
    for (const [what, damage] of tries) {
      damage();
      logs.length = 0;
      const c = new OfflineCache(settings(), log, () => clock);
      expect([what, c.size]).toEqual([what, 0]);
      expect(logs.some((l) => l.includes('offline.cache_refused'))).toBe(true);
      fs.chmodSync(file, 0o600);
    }
    expect(parseCacheText('pam_mapi offline cache v1 sha256=00\n[]')).toMatch(/checksum/);
  });

  test('a symlink in place of the file is refused', async () => {
    const target = path.join(dir, 'elsewhere');
    fs.writeFileSync(target, 'x', { mode: 0o600 });
    fs.symlinkSync(target, settings().file);
    const c = new OfflineCache(settings(), log, () => clock);
    expect(c.size).toBe(0);
    expect(logs.some((l) => l.includes('offline.cache_refused'))).toBe(true);
  });

  test('at most 100000 users: the one whose online login is oldest goes', async () => {
    const entries = new Map<string, Entry>();
    for (let i = 0; i < MAX_ENTRIES; i++) {
      entries.set(`u${i}`, { salt: crypto.randomBytes(16), verifier: crypto.randomBytes(32), login: `u${i}`, state: 'active', enabled: [], disabled: [], onlineAt: clock - MAX_ENTRIES + i, failures: 0, lockedUntil: 0 });
    }
    fs.writeFileSync(settings().file, cacheText(entries), { mode: 0o600 });
    cache = new OfflineCache(settings(), log, () => clock);
    expect(cache.size).toBe(MAX_ENTRIES);
    await online();
    expect(cache.size).toBe(MAX_ENTRIES);
    expect(cache.lookup('u0').kind).toBe('none');
    expect(cache.lookup('u1').kind).toBe('verdict');
  }, 30000);
});

describe('offline settings', () => {
  const read = (values: Record<string, string>): OfflineSettings | null => {
    const r = new SectionReader('/etc/pam_mapi.conf', 'store', values);
    const s = readOfflineSettings(r, '');
    r.finish();
    return s;
  };
  test('off by default; on with a bounded age and SSSD-like lockout defaults', () => {
    expect(read({})).toBeNull();
    expect(read({ offline_cache: 'yes' })).toEqual({ file: '/var/lib/pam_mapi/offline/default.cache', maxAgeMs: 3 * 86_400_000, failedAttempts: 5, lockoutMs: 300_000 });
    expect(read({ offline_cache: 'yes', offline_max_age: '12h', offline_failed_attempts: '3', offline_lockout: '30m' })).toMatchObject({ maxAgeMs: 43_200_000, failedAttempts: 3, lockoutMs: 1_800_000 });
    expect(read({ offline_cache: 'yes', offline_max_age: '45' })?.maxAgeMs).toBe(45_000);
  });
  test('the circuit breaker is on with the cache, off without it unless asked for', () => {
    const both = (values: Record<string, string>): ResilienceSettings => {
      const r = new SectionReader('/etc/pam_mapi.conf', 'store', values);
      const s = readResilienceSettings(r, '');
      r.finish();
      return s;
    };
    expect(both({}).circuitBreaker).toBe(false);
    expect(both({ offline_cache: 'yes' }).circuitBreaker).toBe(true);
    expect(both({ circuit_breaker: 'yes' })).toEqual({ offline: null, circuitBreaker: true });
    expect(both({ offline_cache: 'yes', circuit_breaker: 'no' }).circuitBreaker).toBe(false);
  });

  test('no forever: 0, a huge age or a word is refused', () => {
    expect(() => read({ offline_cache: 'yes', offline_max_age: '0' })).toThrow(/outside/);
    expect(() => read({ offline_cache: 'yes', offline_max_age: '1000d' })).toThrow(/outside/);
    expect(() => read({ offline_cache: 'yes', offline_max_age: 'forever' })).toThrow(/duration/);
    expect(() => read({ offline_cache: 'yes', offline_cache_file: 'relative' })).toThrow(/absolute/);
  });
});

describe('circuit breaker', () => {
  test('after repeated failures the store is not asked; answers come at once; a probe closes it', async () => {
    await online();
    store.mode = 'hang';
    for (let i = 0; i < FAILURES_TO_OPEN; i++) await auth('bob', 'builder');
    const asked = store.asked;
    const o = await auth('bob', 'builder');
    expect(o.result).toBe('AUTHINFO_UNAVAIL');
    expect(o.reason).toMatch(/not asked/);
    expect(store.asked).toBe(asked);
    // Still served from the cache while open.
    expect(await auth('alice', 'wonderland')).toMatchObject({ result: 'SUCCESS', offline: true });
    expect(logs.filter((l) => l.includes('store.circuit_open'))).toHaveLength(1);
    store.mode = 'answer';
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS + 500));
    expect(logs.filter((l) => l.includes('store.circuit_closed'))).toHaveLength(1);
    expect(await auth('bob', 'builder')).toMatchObject({ result: 'SUCCESS' });
    expect((await auth('bob', 'builder')).offline).toBeUndefined();
  }, 20000);
});

describe('pam-mapi doctor: the offline caches', () => {
  test('off, on and empty, on with its size and age, and a damaged or loose file', async () => {
    const conf = parseConfig(`[store]\npath = /etc/pam_mapi/users\n\n[store.db]\npath = /etc/pam_mapi/users\noffline_cache = yes\noffline_cache_file = /var/lib/pam_mapi/offline-db.cache\noffline_max_age = 2d\n`, '/etc/pam_mapi.conf');
    const root = new SystemRoot(dir);
    const row = (): string => {
      const rows = checkOfflineCaches(root, conf, clock);
      expect(rows[0]).toMatchObject({ check: 'offline cache default', status: 'OK' });
      expect(rows[0].detail).toMatch(/^off/);
      return `${rows[1].status} ${rows[1].detail}`;
    };
    expect(row()).toMatch(/^OK on, empty/);
    const file = path.join(dir, 'var/lib/pam_mapi/offline-db.cache');
    cache = new OfflineCache({ ...settings(), file }, log, () => clock);
    await online();
    clock += 3_600_000;
    await online('bob', 'builder');
    await cache.close();
    expect(row()).toMatch(/^OK on: 2 users \(2 within offline_max_age\), newest 0 s old, oldest 60 min old, [0-9]+ bytes/);
    fs.chmodSync(file, 0o640);
    expect(row()).toMatch(/^FAIL .*mode 640/);
    fs.chmodSync(file, 0o600);
    fs.appendFileSync(file, 'x');
    expect(row()).toMatch(/^FAIL .*checksum mismatch/);
  });
});
