// Starts one private syslog receiver for the whole run, at /dev/log (created when absent, or
// bind-mounted over inside the private mount namespace scripts/test.sh makes).
import { execFileSync, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { SYSLOG_FILE_ENV } from './syslog';

/** Names this run's state file, for global-teardown (same process): runs never share one. */
export const STATE_ENV = 'PAM_MAPI_TEST_SYSLOG_STATE';

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-syslog-'));
  const out = path.join(dir, 'syslog.txt');
  fs.writeFileSync(out, '');
  const inNamespace = process.env.PAM_MAPI_TEST_NS === '1';
  // In scripts/test.sh's private mount namespace the sink is always mounted over /dev/log. A
  // host without a syslog gets an empty placeholder to mount over, left in place: removing it
  // would detach the mount of every other test run on the host (the kernel drops a mount
  // whose mountpoint is unlinked), so that they lost their syslog lines.
  if (inNamespace && !fs.existsSync('/dev/log')) {
    try {
      fs.writeFileSync('/dev/log', '', { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const devLogExists = fs.existsSync('/dev/log');
  let mode: 'created' | 'mounted';
  let sockPath: string;
  if (!devLogExists) {
    mode = 'created';
    sockPath = '/dev/log';
  } else if (inNamespace) {
    mode = 'mounted';
    sockPath = path.join(dir, 'log.sock');
  } else {
    throw new Error('/dev/log belongs to a system syslog: run the tests with `npm test`, which isolates it');
  }
  const sink = spawn('python3', [path.join(__dirname, '../../../test/helpers/syslog_sink.py'), sockPath, out], {
    stdio: 'ignore', detached: true,
  });
  sink.unref();
  const until = Date.now() + 5000;
  while (!fs.existsSync(sockPath)) {
    if (Date.now() > until) throw new Error('the private syslog sink did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  if (mode === 'mounted') execFileSync('mount', ['--bind', sockPath, '/dev/log']);
  process.env[SYSLOG_FILE_ENV] = out;
  const state = path.join(dir, 'state.json');
  fs.writeFileSync(state, JSON.stringify({ pid: sink.pid, mode, dir }));
  process.env[STATE_ENV] = state;
}
