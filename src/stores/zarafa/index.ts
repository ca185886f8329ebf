// The `zarafa` store's descriptor: the users of a Kopano server. Its tables in MySQL or MariaDB
// (zarafa-store.ts), or, when server_cfg's server.cfg says user_plugin = ldap, the directory
// of its ldap.cfg, served by the LDAP store (ldap-plugin.ts).
import { StoreDescriptor } from '../descriptor';
import { LdapStore } from '../ldap/ldap-store';
import { isLdapPlugin, KopanoServerSettings, parseKopanoServerSettings } from './settings';
import { ZarafaStore } from './zarafa-store';

export const zarafaStore: StoreDescriptor<KopanoServerSettings> = {
  type: 'zarafa',
  secretKeys: ['password'],
  doctorHint: 'check the database host, user, password and grants (GRANT SELECT ON kopano.* ...); with user_plugin = ldap, the ldap_* settings of the server\'s ldap.cfg',
  readSettings: parseKopanoServerSettings,
  open: (settings, ctx) => (isLdapPlugin(settings) ? new LdapStore(settings.ldap, ctx) : new ZarafaStore(settings, ctx)),
  describe: (settings) => (isLdapPlugin(settings) ? settings.origins : []),
};
