// The `krb5` store's descriptor: users checked by their realm's KDC with MIT krb5, every ticket
// validated against the mail host's keytab (krb5-store.ts, docs/kerberos.md).
import { StoreDescriptor } from '../descriptor';
import { Krb5Store } from './krb5-store';
import { Krb5Settings, parseKrb5Settings } from './settings';

export const krb5Store: StoreDescriptor<Krb5Settings> = {
  type: 'krb5',
  // No inline secret: the host's key is in the keytab, which is checked as a secret file.
  secretKeys: [],
  doctorHint: 'check the realm, the KDCs (reachable, clocks within 5 minutes) and the keytab (readable by the worker, its key version the KDC\'s: klist -k)',
  readSettings: parseKrb5Settings,
  open: (settings, ctx) => new Krb5Store(settings, ctx),
};
