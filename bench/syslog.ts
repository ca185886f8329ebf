// The modules write a syslog line for every refused password. Inside the private mount
// namespace scripts/bench.sh makes, a drain socket is bind-mounted over /dev/log so that a run's
// hundred thousand failures never reach the system's log (and still cost what a send costs).
import { ChildProcess, execFileSync, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface SyslogCounts {
  counts: Record<string, number>;
  samples: Record<string, string>;
}

const DRAIN = path.resolve(__dirname, '../../bench/syslog-drain.py');

export class SyslogDrain {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly out: { text: string },
  ) {}

  /** null when there is no /dev/log (nothing to protect) or no private namespace to mount in. */
  static async start(warn: (s: string) => void): Promise<SyslogDrain | null> {
    if (!fs.existsSync('/dev/log')) return null;
    if (process.env.PAM_MAPI_BENCH_NS !== '1') {
      warn('bench: not in the private mount namespace of scripts/bench.sh: failure lines go to the system log');
      return null;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-bench-syslog-'));
    const sock = path.join(dir, 'log');
    const child = spawn('python3', [DRAIN, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = { text: '' };
    child.stdout!.on('data', (d: Buffer) => { out.text += d.toString('utf8'); });
    const until = Date.now() + 10000;
    while (!out.text.includes('ready')) {
      if (child.exitCode !== null || Date.now() > until) throw new Error('the syslog drain did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    execFileSync('mount', ['--bind', sock, '/dev/log']);
    return new SyslogDrain(child, dir, out);
  }

  /** Stops the drain; returns the count of messages by the module that wrote them, and the
   * first message of each. */
  async stop(): Promise<SyslogCounts> {
    try {
      execFileSync('umount', ['/dev/log']);
    } catch {
      // the namespace goes with this process anyway
    }
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await done;
    fs.rmSync(this.dir, { recursive: true, force: true });
    return JSON.parse(this.out.text.trim().split('\n').pop() ?? '{}') as SyslogCounts;
  }
}
