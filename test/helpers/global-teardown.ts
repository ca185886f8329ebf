// Stops the private syslog receiver and removes what global-setup made.
import fs from 'fs';
import { STATE_ENV } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const file = process.env[STATE_ENV];
  if (file === undefined || !fs.existsSync(file)) return;
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; mode: string; dir: string };
  try {
    process.kill(state.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  // The module's syslog lines go to the secrets audit that scripts/test.sh runs afterwards.
  const audit = process.env.PAM_MAPI_TEST_AUDIT_DIR;
  if (audit) fs.copyFileSync(`${state.dir}/syslog.txt`, `${audit}/syslog.txt`);
  // A bind mount over /dev/log ends with scripts/test.sh's private mount namespace. Unmounting
  // it here could only fail: the kernel drops it by itself when another run on the same host
  // removes the /dev/log it covers.
  if (state.mode === 'created') fs.rmSync('/dev/log', { force: true });
  fs.rmSync(state.dir, { recursive: true, force: true });
}
