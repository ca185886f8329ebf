// The circuit breaker of every open store and the offline cache of each store that has
// offline_cache = yes, for one generation of the config (main.ts). The caches outlive a reload
// (offlineCacheFor keeps one per file); the circuits belong to the stores they guard.
import { Fields, Level, Logger } from '../log/logger';
import { Config } from '../stores/registry';
import { Store } from '../stores/store';
import { Circuit } from './circuit';
import { OfflineCache, offlineCacheFor } from './offline-cache';
import { Resilience } from './resilient-store';

export interface StoreResilience extends Resilience {
  stop(): void;
}

export function openResilience(config: Config, stores: ReadonlyMap<string, Store>, logger: Logger): StoreResilience {
  const circuits = new Map<Store, Circuit>();
  const caches = new Map<Store, OfflineCache>();
  for (const [name, store] of stores) {
    const log = (level: Level, event: string, fields?: Fields): void => logger.log(level, event, { store: name || 'default', ...fields });
    const def = config.stores.get(name);
    if (def?.circuitBreaker === true) circuits.set(store, new Circuit(store, () => config.worker.storeTimeoutMs, log));
    const offline = def?.offline ?? null;
    if (offline !== null) {
      const cache = offlineCacheFor(offline, log);
      caches.set(store, cache);
      logger.log('notice', 'offline.cache_on', { store: name || 'default', file: offline.file, users: cache.size, max_age_s: offline.maxAgeMs / 1000 });
    }
  }
  return {
    circuit: (s) => circuits.get(s),
    cache: (s) => caches.get(s),
    stop: () => { for (const c of circuits.values()) c.stop(); },
  };
}
