// The `file` store's descriptor: a users file in pam_mapi's, Apache's or Dovecot's format
// (file-store.ts, formats.ts).
import { StoreDescriptor } from '../descriptor';
import { FileStore, FileStoreSettings, parseFileStoreSettings } from './file-store';

export const fileStore: StoreDescriptor<FileStoreSettings> = {
  type: 'file',
  secretKeys: [],
  doctorHint: 'check the users file path and its format',
  readSettings: parseFileStoreSettings,
  open: (settings, ctx) => {
    // Said at every start (and shown by the doctor): the admin accepted a risk in writing.
    if (settings.allowPlaintext) {
      ctx.log('warning', 'store.plaintext_allowed', { message: `allow_plaintext = yes: ${settings.path} may hold passwords as typed; whoever reads it or a backup of it has them` });
    }
    return new FileStore(settings, (message) => ctx.log('error', 'store.reload_failed', { message }));
  },
};
