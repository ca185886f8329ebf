// A pam-mapi-worker for the benchmark. Unlike Sandbox.startWorker, which keeps the worker's log
// in memory for the tests, its log goes to a file (as it would to journald): a benchmark makes
// millions of log lines.
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { WORKER_MAIN } from '../src/sandbox/sandbox';
import { WORKER_NODE_FLAGS } from '../src/worker/node-flags';

const PROBLEM = /^\S+ (error|warning) (?!pamd\.unused )/;

export class BenchWorker {
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(configPath: string, logFile: string, workerMain = WORKER_MAIN, nodeFlags: readonly string[] = []): Promise<BenchWorker> {
    const log = fs.openSync(logFile, 'a');
    // PAM_MAPI_BENCH_CPU_PROF=DIR: a V8 CPU profile of every worker, written to DIR at its stop.
    const profile = process.env.PAM_MAPI_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PAM_MAPI_BENCH_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, ...nodeFlags, ...profile, workerMain, '--config', configPath], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const w = new BenchWorker(child, logFile);
    const until = Date.now() + 15000;
    while (!/ listening /.test(w.log())) {
      if (child.exitCode !== null || Date.now() > until) {
        await w.stop();
        throw new Error(`worker did not start (${configPath}):\n${w.log()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return w;
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Lines at warning level or worse (the worker logs every request at info), read in chunks:
   * the log of a run is large. `pamd.unused` (no file in the real /etc/pam.d uses the module)
   * is expected here and left out. */
  problemLines(): string[] {
    const found: string[] = [];
    const fd = fs.openSync(this.logFile, 'r');
    const buf = Buffer.alloc(1 << 20);
    let rest = '';
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
      const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (PROBLEM.test(l)) found.push(l);
    }
    fs.closeSync(fd);
    if (PROBLEM.test(rest)) found.push(rest);
    return found;
  }

  logBytes(): number {
    return fs.existsSync(this.logFile) ? fs.statSync(this.logFile).size : 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }

  static logPath(dir: string, name: string): string {
    return path.join(dir, `${name}.log`);
  }
}
