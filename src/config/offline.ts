// The offline keys every store section accepts (offline_cache and friends), read before the
// store's own keys. Off by default: a cache of verifiers is a copy of something secret, so it
// exists only where an administrator asked for it.
import path from 'path';
import { SectionReader } from './section';

export interface OfflineSettings {
  /** Where the verifiers are kept, a file only the worker's user can read. */
  file: string;
  /** An entry older than this (since its last online success) is not used. */
  maxAgeMs: number;
  /** Failed offline attempts after which the user is locked out offline. */
  failedAttempts: number;
  /** How long that lockout lasts. */
  lockoutMs: number;
}

/** Its own directory, the worker's: /var/lib/pam_mapi itself is root's (the doctor's baseline
 * is there, and the worker must not be able to replace it). */
export const OFFLINE_DIR = '/var/lib/pam_mapi/offline';
/** SSSD's offline_failed_login_attempts is 0 (no limit) by default; a mail client that keeps a
 * stale password retries a few times a minute, so 5 lets such a client through a short outage
 * without locking its owner out, while a guesser gets 5 tries per lockout period. */
export const DEFAULT_FAILED_ATTEMPTS = 5;
/** SSSD's offline_failed_login_delay default, 5 minutes. */
export const DEFAULT_LOCKOUT_MS = 5 * 60_000;
/** SSSD keeps verifiers forever by default (offline_credentials_expiration = 0); we do not.
 * 3 days covers a long weekend's outage. */
export const DEFAULT_MAX_AGE_MS = 3 * 86_400_000;
const MAX_AGE_LIMIT_MS = 90 * 86_400_000;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "3d", "12h", "30m", "45s" or a number of seconds. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]{1,9})([smhd]?)$/.exec(text.trim().toLowerCase());
  if (m === null) return null;
  return Number(m[1]) * UNITS[m[2] === '' ? 's' : m[2]];
}

function duration(r: SectionReader, key: string, fallbackMs: number, maxMs: number): number {
  const v = r.optional(key);
  if (v === undefined) return fallbackMs;
  const ms = parseDuration(v);
  if (ms === null) r.fail(key, `"${v}" is not a duration like 3d, 12h, 30m or 45s`);
  if (ms === 0 || ms > maxMs) r.fail(key, `${v} is outside (0, ${maxMs / 86_400_000}d]`);
  return ms;
}

/** The section's offline settings, or null when offline_cache is off (the default). The other
 * offline keys are read either way, so a typo is still refused. */
export function readOfflineSettings(r: SectionReader, storeName: string): OfflineSettings | null {
  return readResilienceSettings(r, storeName).offline;
}

export interface ResilienceSettings {
  offline: OfflineSettings | null;
  /** circuit_breaker: stop asking a store that failed repeatedly (src/worker/circuit.ts). On
   * by default only with offline_cache, so a store without the cache behaves as before: its
   * first login after an outage is asked, not refused until a probe has seen it back. */
  circuitBreaker: boolean;
}

export function readResilienceSettings(r: SectionReader, storeName: string): ResilienceSettings {
  const offline = readOffline(r, storeName);
  return { offline, circuitBreaker: r.boolean('circuit_breaker', offline !== null) };
}

function readOffline(r: SectionReader, storeName: string): OfflineSettings | null {
  const on = r.boolean('offline_cache', false);
  const settings: OfflineSettings = {
    file: r.string('offline_cache_file', path.join(OFFLINE_DIR, `${storeName || 'default'}.cache`)),
    maxAgeMs: duration(r, 'offline_max_age', DEFAULT_MAX_AGE_MS, MAX_AGE_LIMIT_MS),
    failedAttempts: r.integer('offline_failed_attempts', DEFAULT_FAILED_ATTEMPTS, 1, 1000),
    lockoutMs: duration(r, 'offline_lockout', DEFAULT_LOCKOUT_MS, 86_400_000),
  };
  if (!path.isAbsolute(settings.file)) r.fail('offline_cache_file', 'must be an absolute path');
  return on ? settings : null;
}
