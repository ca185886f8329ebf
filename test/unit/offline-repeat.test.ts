// A wrong password sent online for a user whose verifier came from the file (no memo yet) is
// checked against the verifier with scrypt in the background; the same wrong password again
// costs no second scrypt.
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { cacheText, Entry, OfflineCache } from '../../src/worker/offline-cache';

let dir: string;
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the same wrong password twice: one scrypt', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offline-repeat-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'offline.cache');
  const salt = crypto.randomBytes(16);
  const entry: Entry = { salt, verifier: crypto.scryptSync('wonderland', salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }), login: 'alice', state: 'active',
    enabled: [], disabled: [], onlineAt: Date.now(), failures: 0, lockedUntil: 0 };
  fs.writeFileSync(file, cacheText(new Map([['alice', entry]])), { mode: 0o600 });
  const cache = new OfflineCache({ file, maxAgeMs: 3_600_000, failedAttempts: 3, lockoutMs: 60_000 }, () => undefined);
  expect(cache.size).toBe(1);
  const scrypt = jest.spyOn(crypto, 'scrypt');
  cache.forgetIfMatches('alice', Buffer.from('guess'));
  await cache.idle();
  cache.forgetIfMatches('alice', Buffer.from('guess'));
  await cache.idle();
  expect(scrypt).toHaveBeenCalledTimes(1);
  // A different wrong password is still checked, and the right one still forgets the verifier.
  cache.forgetIfMatches('alice', Buffer.from('wonderland'));
  await cache.idle();
  expect(scrypt).toHaveBeenCalledTimes(2);
  expect(cache.size).toBe(0);
  await cache.close();
});
