// Starting and stopping the real daemons privately: in their own session (saslauthd signals its
// whole process group on SIGTERM), stopped by their own pid, and the /tmp/pam.X copies that
// pam_wrapper leaves behind for killed processes removed afterwards (it has 62 names).
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';

export const PAM_WRAPPER_LIB = ['/usr/lib/x86_64-linux-gnu/libpam_wrapper.so', '/usr/lib64/libpam_wrapper.so', '/usr/lib/libpam_wrapper.so'].find((p) => fs.existsSync(p)) ?? 'libpam_wrapper.so';

/** Environment that makes libpam read service files from dir (which needs an `other` file). */
export function pamWrapperEnv(serviceDir: string): Record<string, string> {
  // Under npm run test:asan the sanitizer runtime must come first in every process that loads
  // the module.
  const first = process.env.PAM_MAPI_TEST_PRELOAD;
  // PAM_WRAPPER_USE_SYSLOG: without it pam_wrapper swallows what modules log with pam_syslog,
  // and the tests could not read the lines the daemons' PAM stacks wrote.
  return {
    LD_PRELOAD: first ? `${first} ${PAM_WRAPPER_LIB}` : PAM_WRAPPER_LIB, PAM_WRAPPER: '1', PAM_WRAPPER_SERVICE_DIR: serviceDir,
    PAM_WRAPPER_USE_SYSLOG: '1',
  };
}

export class Daemon {
  private out = '';
  private readonly exited: Promise<void>;

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => { this.out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Daemon {
    const child = spawn(cmd, args, { env: { ...process.env, LC_ALL: 'C', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Daemon(name, child);
  }

  get output(): string {
    return this.out;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
      const timer = setTimeout(() => { try { process.kill(-(this.child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } }, 10000);
      await this.exited;
      clearTimeout(timer);
    }
    // Children of its session that outlived it.
    try { process.kill(-(this.child.pid ?? 0), 'SIGKILL'); } catch { /* none left */ }
    removeStalePamWrapperDirs();
  }
}

/** pam_wrapper's copies whose process is gone. */
export function removeStalePamWrapperDirs(): void {
  for (const name of fs.readdirSync('/tmp')) {
    if (!/^pam\.[0-9A-Za-z]$/.test(name)) continue;
    const dir = path.join('/tmp', name);
    let pid = NaN;
    try {
      pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim());
    } catch {
      continue;
    }
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    if (!alive) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function waitFor(what: string, cond: () => boolean, ms = 15000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`${what}: not ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
