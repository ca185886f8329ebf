// The `ldap` store's descriptor: users in an LDAP directory (ldap-store.ts).
import { StoreDescriptor } from '../descriptor';
import { LdapStore } from './ldap-store';
import { LdapSettings, parseLdapSettings } from './settings';

export const ldapStore: StoreDescriptor<LdapSettings> = {
  type: 'ldap',
  secretKeys: ['bind_password'],
  doctorHint: 'check the directory URI, bind DN and password (with auth_method = kerberos also the krb5_ keys: realm, KDCs, keytab)',
  readSettings: parseLdapSettings,
  open: (settings, ctx) => new LdapStore(settings, ctx),
};
