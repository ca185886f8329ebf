// Stops the private syslog receiver and removes what global-setup made.
import { execFileSync } from 'child_process';
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
  if (state.mode === 'created') fs.rmSync('/dev/log', { force: true });
  else execFileSync('umount', ['/dev/log']);
  fs.rmSync(state.dir, { recursive: true, force: true });
}
