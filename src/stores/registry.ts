// Which store types exist, how their config sections are read, and how they are opened.
import { SectionReader } from '../config/section';
import { FileStore, FileStoreSettings, parseFileStoreSettings } from './file-store';
import { Store } from './store';
import { StoreContext } from './context';
import { LdapStore } from './ldap/ldap-store';
import { LdapSettings, parseLdapSettings } from './ldap/settings';
import { parseZarafaSettings, ZarafaSettings } from './zarafa/settings';
import { ZarafaStore } from './zarafa/zarafa-store';

export type StoreDefinition =
  | { name: string; type: 'file'; settings: FileStoreSettings }
  | { name: string; type: 'zarafa'; settings: ZarafaSettings }
  | { name: string; type: 'ldap'; settings: LdapSettings };

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
    case 'ldap':
      def = { name, type, settings: parseLdapSettings(r) };
      break;
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
    case 'ldap':
      return new LdapStore(def.settings, ctx);
  }
}
