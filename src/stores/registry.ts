// Which store types exist, how their config sections are read, and how they are opened.
import { SectionReader } from '../config/section';
import { FileStore, FileStoreSettings, parseFileStoreSettings } from './file-store';
import { Store } from './store';
import { Logger } from '../log/logger';

export type StoreDefinition = { name: string; type: 'file'; settings: FileStoreSettings };

const TYPES = ['file', 'zarafa', 'ldap'] as const;

export function parseStoreSection(r: SectionReader, name: string): StoreDefinition {
  const type = r.choice('type', 'file', TYPES);
  let def: StoreDefinition;
  switch (type) {
    case 'file':
      def = { name, type, settings: parseFileStoreSettings(r) };
      break;
    default:
      r.fail('type', `the ${type} store is not available in this version of pam_mapi`);
  }
  r.finish();
  return def;
}

export function openStore(def: StoreDefinition, logger: Logger): Store {
  switch (def.type) {
    case 'file':
      return new FileStore(def.settings, (message) => logger.log('error', 'store.reload_failed', { store: def.name || 'default', message }));
  }
}
