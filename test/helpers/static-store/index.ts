// The `static` store's descriptor (test only; see static-store.ts).
import { StoreDescriptor } from '../../../src/stores/descriptor';
import { parseStaticSettings, StaticSettings, StaticStore } from './static-store';

export const staticStore: StoreDescriptor<StaticSettings> = {
  type: 'static',
  secretKeys: ['shared_secret'],
  doctorHint: 'check the users and shared_secret keys',
  readSettings: parseStaticSettings,
  open: (settings) => new StaticStore(settings),
};
