// The `zarafa` store's descriptor: Kopano's user tables in MySQL or MariaDB (zarafa-store.ts).
import { StoreDescriptor } from '../descriptor';
import { parseZarafaSettings, ZarafaSettings } from './settings';
import { ZarafaStore } from './zarafa-store';

export const zarafaStore: StoreDescriptor<ZarafaSettings> = {
  type: 'zarafa',
  secretKeys: ['password'],
  doctorHint: 'check the database host, user, password and grants (GRANT SELECT ON kopano.* ...)',
  readSettings: parseZarafaSettings,
  open: (settings, ctx) => new ZarafaStore(settings, ctx),
};
