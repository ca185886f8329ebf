// The `file` store's descriptor: a users file of login:salted-md5 lines (file-store.ts).
import { StoreDescriptor } from '../descriptor';
import { FileStore, FileStoreSettings, parseFileStoreSettings } from './file-store';

export const fileStore: StoreDescriptor<FileStoreSettings> = {
  type: 'file',
  secretKeys: [],
  doctorHint: 'check the users file path and its format',
  readSettings: parseFileStoreSettings,
  open: (settings, ctx) => new FileStore(settings, (message) => ctx.log('error', 'store.reload_failed', { message })),
};
