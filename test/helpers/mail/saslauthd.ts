// saslauthd -a pam, private: its mux socket in a temp dir, PAM through pam_wrapper.
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';
import { Daemon, pamWrapperEnv, waitFor } from './daemon';
import { recordSecret } from '../../../src/sandbox/secret-audit';

const run = promisify(execFile);

export class Saslauthd {
  private constructor(readonly daemon: Daemon, readonly runDir: string) {}

  get mux(): string {
    return path.join(this.runDir, 'mux');
  }

  static async start(dir: string, pamServiceDir: string): Promise<Saslauthd> {
    const runDir = path.join(dir, 'saslauthd');
    fs.mkdirSync(runDir, { recursive: true });
    // -n 0: a process per request, as the one-login-per-process callers do; -d: foreground.
    const daemon = Daemon.start('saslauthd', 'saslauthd', ['-a', 'pam', '-m', runDir, '-n', '0', '-d'], pamWrapperEnv(pamServiceDir));
    const s = new Saslauthd(daemon, runDir);
    await waitFor('saslauthd', () => fs.existsSync(s.mux));
    return s;
  }

  /** testsaslauthd's answer, e.g. `0: OK "Success."`. */
  async test(user: string, password: string, service: string): Promise<string> {
    recordSecret(password);
    try {
      const { stdout } = await run('testsaslauthd', ['-u', user, '-p', password, '-s', service, '-f', this.mux]);
      return stdout.trim();
    } catch (e) {
      return ((e as { stdout?: string }).stdout ?? String(e)).trim();
    }
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}
