// File safety rules, as ssh applies them to private keys: a file the worker trusts must not be
// writable by others, and a file holding a secret must not be readable by them either. The one
// group that may read a secret is the worker's own (root:pam-mapi 0640, the installed layout):
// a dedicated group whose only member is the worker's user.
import fs from 'fs';
import { WORKER_USER } from '../protocol/constants';
import { resolveId } from './accounts';
import { ConfigError } from './errors';

export function checkTrustedFile(path: string, holdsSecret: boolean, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw new ConfigError(`${what} ${path}: ${(e as Error).message}`);
  }
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  if ((st.mode & 0o022) !== 0) {
    throw new ConfigError(`${what} ${path} is writable by group or others (mode ${mode}): refusing it; run chmod go-w ${path}`);
  }
  const readers = ownGroup(st.gid) ? 0o004 : 0o044;
  if (holdsSecret && (st.mode & readers) !== 0) {
    throw new ConfigError(`${what} ${path} holds a password and is readable by group or others (mode ${mode}): refusing it; run chmod 600 ${path}`);
  }
}

/** The worker's group: pam-mapi (its members may read the secrets; it should have none but the
 * worker's user), or the group of a worker run unprivileged under another name. Never root's. */
function ownGroup(gid: number): boolean {
  if (gid === 0) return false;
  return gid === process.getgid?.() || gid === resolveId('group', WORKER_USER);
}
