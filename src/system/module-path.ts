// Where pam_mapi.so is: PAM_MAPI_MODULE when set, the system's PAM module directory when the
// module is installed there, else the one built in this checkout.
import fs from 'fs';
import path from 'path';

/** Where systems keep PAM modules: Debian multiarch (with and without usr-merge), RHEL, others. */
export const SYSTEM_MODULE_DIRS = ['/lib/x86_64-linux-gnu/security', '/usr/lib/x86_64-linux-gnu/security', '/usr/lib64/security', '/lib64/security', '/lib/security', '/usr/lib/security'];
export const BUILT_MODULE = path.resolve(__dirname, '../../../build/Release/pam_mapi.so');

export function findModule(): string {
  const fromEnv = process.env.PAM_MAPI_MODULE;
  if (fromEnv) return fromEnv;
  for (const dir of SYSTEM_MODULE_DIRS) {
    const p = path.join(dir, 'pam_mapi.so');
    if (fs.existsSync(p)) return p;
  }
  return BUILT_MODULE;
}
