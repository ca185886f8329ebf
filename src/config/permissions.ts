// File safety rules, as ssh applies them to private keys: a file the worker trusts must not be
// writable by others, and a file holding a secret must not be readable by them either.
import fs from 'fs';
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
  if (holdsSecret && (st.mode & 0o044) !== 0) {
    throw new ConfigError(`${what} ${path} holds a password and is readable by group or others (mode ${mode}): refusing it; run chmod 600 ${path}`);
  }
}
