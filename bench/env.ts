// The machine checks before a run, and the small things the run needs from the system.
import fs from 'fs';
import path from 'path';
import { BenchOptions, ModuleName } from './options';
import { PAM_LOAD } from './pam-load';

export { freePort } from '../src/sandbox/ports';

/** Where libpam finds modules given by name: the directory that holds pam_permit.so. */
export function pamModuleDir(): string | undefined {
  const roots = ['/lib', '/usr/lib', '/lib64', '/usr/lib64'];
  const dirs = roots.flatMap((r) => [path.join(r, 'security'), ...(fs.existsSync(r) ? fs.readdirSync(r).map((d) => path.join(r, d, 'security')) : [])]);
  return dirs.find((d) => fs.existsSync(path.join(d, 'pam_permit.so')));
}

export function preflight(o: BenchOptions): void {
  if (process.getuid?.() !== 0) throw new Error('npm run bench must run as root: pam_mapi.so talks only to a worker run by root, and nslcd needs a mount namespace');
  if (!fs.existsSync(PAM_LOAD)) throw new Error(`${PAM_LOAD} is missing: npm run build`);
  const modules = pamModuleDir() ?? '/lib/security';
  const need: Array<[ModuleName, string]> = [['pam_mysql', path.join(modules, 'pam_mysql.so')], ['pam_ldap', path.join(modules, 'pam_ldap.so')], ['pam_ldap', '/usr/sbin/nslcd'],
    ['pam_sss', path.join(modules, 'pam_sss.so')], ['pam_sss', '/usr/sbin/sssd'],
    ['pam_krb5', path.join(modules, 'pam_krb5.so')], ['mapi_krb5', '/usr/sbin/krb5kdc'], ['pam_krb5', '/usr/sbin/krb5kdc'], ['mapi_krb5', '/usr/sbin/kadmin.local'], ['pam_krb5', '/usr/sbin/kadmin.local']];
  for (const [m, file] of need) {
    if (o.modules.includes(m) && !fs.existsSync(file)) throw new Error(`${file} is missing for ${m}: run scripts/bootstrap.sh bench (libpam-mysql, libpam-ldapd, nslcd, sssd-ldap, libpam-sss, libpam-krb5, krb5-kdc, krb5-admin-server)`);
  }
}
