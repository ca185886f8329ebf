// The store types, one descriptor each (descriptor.ts), and the config read with them: each
// [store] section by the descriptor its `type =` names, the config file's permissions by the
// secret keys the descriptors declare. A new store type is one line in STORE_TYPES.
import { ConfigFile, readConfig, parseConfigText, DEFAULT_CONFIG_PATH } from '../config/load';
import { SectionReader } from '../config/section';
import { OfflineSettings, readResilienceSettings } from '../config/offline';
import { StoreContext } from './context';
import { StoreDescriptor } from './descriptor';
import { fileStore } from './file';
import { ldapStore } from './ldap';
import { Store } from './store';
import { zarafaStore } from './zarafa';
import { krb5Store } from './krb5';

/** The first is the type of a section without `type =`. */
export const STORE_TYPES: ReadonlyArray<StoreDescriptor<unknown>> = [fileStore, zarafaStore, ldapStore, krb5Store];

/** One store section, read by its descriptor. */
export interface StoreDefinition {
  name: string;
  type: string;
  settings: unknown;
  /** The doctor's fix when this store fails. */
  doctorHint: string;
  /** Which file configured what, for the doctor (descriptor.describe). */
  origins: string[];
  /** The offline verifier cache (offline_cache = yes), or null: off. */
  offline: OfflineSettings | null;
  /** circuit_breaker = yes (the default with offline_cache). */
  circuitBreaker: boolean;
  open(ctx: StoreContext): Store;
}

export interface Config extends Omit<ConfigFile, 'storeSections'> {
  /** By name; the default store `[store]` is named "". */
  stores: Map<string, StoreDefinition>;
}

/** Every key that is a secret in some store type: a secret is protected whatever section it is
 * in, so a mistyped `type =` cannot leave a password world-readable. */
export function secretKeysOf(types: ReadonlyArray<StoreDescriptor<unknown>>): string[] {
  return [...new Set(types.flatMap((t) => t.secretKeys))];
}

/** Loads the config; a missing file means the embedded defaults when opts.optional. */
export function loadConfig(file: string = DEFAULT_CONFIG_PATH, opts: { optional?: boolean } = {}, types = STORE_TYPES): Config {
  return readStores(readConfig(file, { ...opts, secretKeys: secretKeysOf(types) }), types);
}

export function parseConfig(text: string, file: string, types = STORE_TYPES): Config {
  return readStores(parseConfigText(text, file, secretKeysOf(types)), types);
}

function readStores(cf: ConfigFile, types: ReadonlyArray<StoreDescriptor<unknown>>): Config {
  const stores = new Map<string, StoreDefinition>();
  for (const [name, section] of cf.storeSections) {
    const r = new SectionReader(cf.file, section.header, section.values);
    const typeName = r.choice('type', types[0].type, types.map((t) => t.type));
    const descriptor = types.find((t) => t.type === typeName) as StoreDescriptor<unknown>;
    const { offline, circuitBreaker } = readResilienceSettings(r, name);
    const settings = descriptor.readSettings(r);
    r.finish();
    stores.set(name, { name, type: descriptor.type, settings, doctorHint: descriptor.doctorHint, origins: descriptor.describe?.(settings) ?? [], offline, circuitBreaker, open: (ctx) => descriptor.open(settings, ctx) });
  }
  return { file: cf.file, worker: cf.worker, throttle: cf.throttle, stores };
}
