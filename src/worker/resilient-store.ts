// Asking a store with its circuit breaker and, when the store cannot answer, its offline cache.
// The answers are the store's facts (Verification, Lookup); the policy's outcome table decides
// as for an online answer. Only StoreUnavailableError (down, timed out, circuit open) lets the
// cache answer: an online "no" always wins, and any other error stays an error.
import { Lookup, Store, StoreUnavailableError, Verification } from '../stores/store';
import { Circuit } from './circuit';
import { withDeadline } from './deadline';
import { OfflineCache } from './offline-cache';

/** What the worker keeps beside each open store. */
export interface Resilience {
  circuit(store: Store): Circuit | undefined;
  cache(store: Store): OfflineCache | undefined;
}

export type Asked<T> =
  | { kind: 'online'; answer: T }
  | { kind: 'offline'; answer: T; ageMs: number }
  | { kind: 'locked'; untilMs: number };

async function online<T>(r: Resilience | undefined, store: Store, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const circuit = r?.circuit(store);
  circuit?.check();
  try {
    const answer = await withDeadline(timeoutMs, call);
    circuit?.answered();
    return answer;
  } catch (e) {
    if (e instanceof StoreUnavailableError) circuit?.unavailable(e.message);
    throw e;
  }
}

/** With an offline cache, the part of store_timeout kept for its answer (one scrypt, about
 * 50 ms), so a login whose store hangs is answered within store_timeout, not after it. */
export function storeShare(timeoutMs: number, cache: OfflineCache | undefined): number {
  return cache === undefined ? timeoutMs : Math.max(1, timeoutMs - Math.min(250, Math.floor(timeoutMs / 4)));
}

/** Throws the store's error when neither the store nor the cache can answer. */
export async function verifyUser(r: Resilience | undefined, store: Store, timeoutMs: number, user: string, password: Buffer): Promise<Asked<Verification>> {
  const cache = r?.cache(store);
  let answer: Verification;
  try {
    answer = await online(r, store, storeShare(timeoutMs, cache), (signal) => store.verify(user, password, signal));
  } catch (e) {
    if (cache === undefined || !(e instanceof StoreUnavailableError)) throw e;
    const off = await cache.verify(user, password);
    if (off.kind === 'none') throw new StoreUnavailableError(`${e.message}; offline cache: ${off.why}`);
    if (off.kind === 'locked') return off;
    return { kind: 'offline', answer: off.verification, ageMs: off.ageMs };
  }
  if (cache !== undefined) {
    // Only a password the store checked and accepted becomes a verifier ('unchecked' is truthy:
    // a guess sent while the account was disabled would log in offline once it is enabled).
    if (answer.found && answer.passwordOk === true) {
      // After the answer is sent (setImmediate runs after the session's write), from a copy:
      // the policy wipes its buffer when decide() returns.
      const copy = Buffer.from(password);
      const found = answer.user;
      setImmediate(() => cache.remember(user, copy, found));
    } else {
      cache.observe(user, answer.found ? { found: true, user: answer.user } : { found: false });
      if (answer.found && answer.passwordOk === false) {
        const copy = Buffer.from(password);
        setImmediate(() => cache.forgetIfMatches(user, copy));
      }
    }
  }
  return { kind: 'online', answer };
}

export async function lookupUser(r: Resilience | undefined, store: Store, timeoutMs: number, user: string): Promise<Exclude<Asked<Lookup>, { kind: 'locked' }>> {
  const cache = r?.cache(store);
  let answer: Lookup;
  try {
    answer = await online(r, store, storeShare(timeoutMs, cache), (signal) => store.lookup(user, signal));
  } catch (e) {
    if (cache === undefined || !(e instanceof StoreUnavailableError)) throw e;
    const off = cache.lookup(user);
    if (off.kind !== 'verdict') throw new StoreUnavailableError(`${e.message}; offline cache: ${off.kind === 'none' ? off.why : 'locked'}`);
    const v = off.verification;
    return { kind: 'offline', answer: v.found ? { found: true, user: v.user } : { found: false }, ageMs: off.ageMs };
  }
  cache?.observe(user, answer);
  return { kind: 'online', answer };
}
