// Which store types exist, how their config sections are read, and how they are opened.
import { SectionReader } from '../config/section';
import { FileStore, FileStoreSettings, parseFileStoreSettings } from './file-store';
import { Store } from './store';
import { StoreContext } from './context';
import { parseZarafaSettings, ZarafaSettings } from './zarafa/settings';
import { ZarafaStore } from './zarafa/zarafa-store';

export type StoreDefinition =
  | { name: string; type: 'file'; settings: FileStoreSettings }
  | { name: string; type: 'zarafa'; settings: ZarafaSettings };

const TYPES = ['file', 'zarafa', 'ldap'] as const;

export function parseStoreSection(r: SectionReader, name: string): StoreDefinition {
  const type = r.choice('type', 'file', TYPES);
  let def: StoreDefinition;
  switch (type) {
    case 'file':
      def = { name, type, settings: parseFileStoreSettings(r) };
      break;
    case 'zarafa':
      def = { name, type, settings: parseZarafaSettings(r) };
      break;
    default:
      r.fail('type', `the ${type} store is not available in this version of pam_mapi`);
  }
  r.finish();
  return def;
}

export function openStore(def: StoreDefinition, ctx: StoreContext): Store {
  switch (def.type) {
    case 'file':
      return new FileStore(def.settings, (message) => ctx.log('error', 'store.reload_failed', { message }));
    case 'zarafa':
      return new ZarafaStore(def.settings, ctx);
  }
}
