// A worker run the way systemd runs it, by test/helpers/socket_activator.py.
import { ChildProcess, spawn } from 'child_process';
import path from 'path';
import fs from 'fs';
import { REPO_ROOT, WORKER_MAIN } from '../../src/sandbox/sandbox';
import { debugEverywhere, workerLogFile } from '../../src/sandbox/secret-audit';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';

export class ActivatedWorker {
  private out = '';
  private readonly child: ChildProcess;

  /** `wrap` prefixes the worker's command (e.g. to run it as another user). */
  constructor(socketPath: string, configPath: string, wrap: string[] = []) {
    const debug = debugEverywhere() ? ['--debug'] : [];
    this.child = spawn('python3', [path.join(REPO_ROOT, 'test/helpers/socket_activator.py'), socketPath, '--', ...wrap, process.execPath, ...WORKER_NODE_FLAGS, WORKER_MAIN, '--config', configPath, ...debug], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = workerLogFile(this.child.pid);
    const take = (d: Buffer): void => {
      this.out += d.toString();
      if (keep !== null) fs.appendFileSync(keep, d);
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
  }

  /** The activator's pid: SIGUSR1 restarts the worker, SIGUSR2 crashes it (see restart()). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  get output(): string {
    return this.out;
  }

  /** Waits until generation n of the worker is listening on the inherited socket. */
  async listening(generation: number, ms = 15000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const count = (this.out.match(/ listening socket="fd 3 \(systemd\)"/g) ?? []).length;
      if (count >= generation) return;
      if (Date.now() > until) throw new Error(`worker generation ${generation} not listening:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  restart(): void {
    this.child.kill('SIGUSR1');
  }

  crash(): void {
    this.child.kill('SIGUSR2');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
