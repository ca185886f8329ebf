// Stops the private syslog receiver and removes what global-setup made.
import { execFileSync } from 'child_process';
import fs from 'fs';
import { STATE_FILE } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  if (!fs.existsSync(STATE_FILE)) return;
  const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as { pid: number; mode: string; dir: string };
  try {
    process.kill(state.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  if (state.mode === 'created') fs.rmSync('/dev/log', { force: true });
  else execFileSync('umount', ['/dev/log']);
  fs.rmSync(state.dir, { recursive: true, force: true });
  fs.rmSync(STATE_FILE, { force: true });
}
