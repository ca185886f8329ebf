// A store that refused an account before it looked at the password (passwordOk 'unchecked',
// krb5 and ldap policy) must not teach the offline cache that password: else a guess sent while
// the account is disabled becomes its offline verifier, and logs in once the account is enabled
// again online and the store is then down.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Fields, Level } from '../../src/log/logger';
import { PamRequest } from '../../src/protocol/messages';
import { AccountState, Lookup, Store, StoreUnavailableError, Verification } from '../../src/stores/store';
import { Circuit } from '../../src/worker/circuit';
import { OfflineCache } from '../../src/worker/offline-cache';
import { decide, Outcome, PolicyContext } from '../../src/worker/policy';

class KdcLike implements Store {
  readonly type = 'krb5';
  readonly defaultDisabledFeatures: readonly string[] = [];
  state: AccountState = 'active';
  down = false;

  async verify(login: string, password: Buffer): Promise<Verification> {
    if (this.down) throw new StoreUnavailableError('connect ECONNREFUSED');
    const user = { login, state: this.state, features: { enabled: [], disabled: [] } };
    // A disabled principal is refused before the password is looked at.
    if (this.state !== 'active') return { found: true, passwordOk: 'unchecked', user };
    return { found: true, passwordOk: password.equals(Buffer.from('wonderland')), user };
  }

  async lookup(login: string): Promise<Lookup> {
    if (this.down) throw new StoreUnavailableError('connect ECONNREFUSED');
    return { found: true, user: { login, state: this.state, features: { enabled: [], disabled: [] } } };
  }

  async close(): Promise<void> {}
}

const log = (_level: Level, _event: string, _fields?: Fields): void => undefined;
let dir: string;
let store: KdcLike;
let cache: OfflineCache;
let circuit: Circuit;

const request = (op: 'authenticate' | 'account', password = ''): PamRequest => ({
  op, service: 'smtp', user: Buffer.from('alice'), rhost: '203.0.113.50', ruser: '', tty: '', logname: '', uid: 0, euid: 0, args: [], argsTruncated: false,
  password: op === 'authenticate' ? { kind: 'ok', from: 'prompt', secret: Buffer.from(password) } : null,
});
const ctx = (): PolicyContext => ({
  stores: new Map([['', store]]), storeTimeoutMs: 300, configFile: '/etc/pam_mapi.conf', accountReuseMs: 0,
  resilience: { circuit: () => circuit, cache: () => cache },
});
const auth = (password: string): Promise<Outcome> => decide(request('authenticate', password), ctx());
async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await cache.idle();
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offline-unchecked-'));
  store = new KdcLike();
  cache = new OfflineCache({ file: path.join(dir, 'offline.cache'), maxAgeMs: 3_600_000, failedAttempts: 3, lockoutMs: 60_000 }, log);
  circuit = new Circuit(store, () => 300, log);
});

afterEach(async () => {
  circuit.stop();
  await cache.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a password the store did not check never becomes the offline verifier', async () => {
  expect((await auth('wonderland')).result).toBe('SUCCESS');
  await settle();
  // Disabled online: a guess is refused unchecked.
  store.state = 'inactive';
  expect((await auth('guess')).result).toBe('PERM_DENIED');
  await settle();
  // Enabled again; an account request brings the cache the new state; then the store goes down.
  store.state = 'active';
  expect((await decide(request('account'), ctx())).result).toBe('SUCCESS');
  await settle();
  store.down = true;
  expect((await auth('guess')).result).not.toBe('SUCCESS');
  expect((await auth('wonderland')).result).toBe('SUCCESS');
});
