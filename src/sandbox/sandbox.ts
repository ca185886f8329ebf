// A private pam_mapi installation in a temporary directory: users file, config, a running
// worker on its own socket, and a private pam.d directory whose stanzas load the built module.
// The demo, the tests and the benchmarks use it; nothing here touches /etc.
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { zarafaHash } from '../stores/zarafa-hash';
import { debugEverywhere, recordSecret, workerLogFile } from './secret-audit';
import { WORKER_NODE_FLAGS } from '../worker/node-flags';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** The module the stanzas load; PAM_MAPI_TEST_MODULE swaps in another build (npm run test:asan). */
export const MODULE_PATH = process.env.PAM_MAPI_TEST_MODULE ?? path.join(REPO_ROOT, 'build/Release/pam_mapi.so');
/** The PAM_RHOST test/helpers/pam.ts sends unless told otherwise. */
export const TEST_CLIENT_RHOST = '198.51.100.7';
export const WORKER_MAIN = path.join(REPO_ROOT, 'dist/src/worker/main.js');

export interface SandboxUser {
  login: string;
  password: string;
  enabled?: string[];
  disabled?: string[];
  locked?: boolean;
}

export function usersFileLine(u: SandboxUser): string {
  recordSecret(u.password);
  const hash = (u.locked ? '!' : '') + zarafaHash(Buffer.from(u.password, 'utf8'));
  return [u.login, hash, (u.enabled ?? []).join(' '), (u.disabled ?? []).join(' ')].join(':');
}

export class WorkerProcess {
  private out = '';
  private readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly socketPath: string,
  ) {
    const keep = workerLogFile(child.pid);
    const take = (d: Buffer): void => {
      this.out += d.toString('utf8');
      if (keep !== null) fs.appendFileSync(keep, d);
    };
    child.stderr?.on('data', take);
    child.stdout?.on('data', take);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Everything the worker wrote so far (its log). */
  get output(): string {
    return this.out;
  }

  /** The log once it matches `pattern`, or as it is after timeoutMs. A line the worker wrote
   * before its answer may still be in the pipe when the answer has reached the test. */
  async outputMatching(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(this.out) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.out;
  }

  async ready(timeoutMs = 15000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!/ listening /.test(this.out)) {
      if (this.child.exitCode !== null) throw new Error(`worker exited (${this.child.exitCode}):\n${this.out}`);
      if (Date.now() > until) throw new Error(`worker not ready after ${timeoutMs} ms:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(sig);
  }

  async stop(): Promise<number | null> {
    this.signal('SIGTERM');
    return this.exited;
  }

  ended(): Promise<number | null> {
    return this.exited;
  }
}

export class Sandbox {
  readonly pamDir: string;
  readonly socketPath: string;
  private readonly workers: WorkerProcess[] = [];

  private constructor(readonly dir: string) {
    this.pamDir = path.join(dir, 'pam.d');
    this.socketPath = path.join(dir, 'worker.sock');
    fs.mkdirSync(this.pamDir);
    // libpam wants an `other` service and logs its absence at every pam_start.
    fs.writeFileSync(path.join(this.pamDir, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  }

  static create(prefix = 'pam_mapi-'): Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    // Traversable by other uids, for tests that run a client as an unprivileged user.
    fs.chmodSync(dir, 0o755);
    return new Sandbox(dir);
  }

  file(name: string, text: string, mode = 0o600): string {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode);
    return p;
  }

  writeUsers(users: readonly SandboxUser[], name = 'users'): string {
    return this.file(name, users.map(usersFileLine).join('\n') + '\n', 0o600);
  }

  /** A config whose [worker] points at this sandbox's socket; `extra` adds sections. */
  writeConfig(storeSections: string, worker = ''): string {
    // The tests' in-process PAM client (test/helpers/pam.ts) sends PAM_RHOST 198.51.100.7 for
    // every user: tests that are not about the throttle run many wrong passwords from it, so it
    // is trusted unless the test writes a [throttle] section of its own.
    const throttle = /^\[throttle\]/m.test(storeSections) ? '' : `[throttle]\ntrusted_networks = ${TEST_CLIENT_RHOST}\n`;
    const text = `[worker]\nsocket = ${this.socketPath}\n${worker}\n${throttle}${storeSections}\n`;
    return this.file('pam_mapi.conf', text, 0o600);
  }

  async startWorker(configPath: string, extraArgs: string[] = []): Promise<WorkerProcess> {
    const debug = debugEverywhere() && !extraArgs.includes('--debug') ? ['--debug'] : [];
    const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, WORKER_MAIN, '--config', configPath, ...debug, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const w = new WorkerProcess(child, this.socketPath);
    this.workers.push(w);
    await w.ready();
    return w;
  }

  /** The argument that points the module at this sandbox's worker. */
  get workerArg(): string {
    return `worker=${this.socketPath}`;
  }

  /** Writes a PAM service file; `{module}` stands for the built module's absolute path (and,
   * in a run that logs everything, its `debug` argument). */
  service(name: string, lines: string[]): void {
    const module = debugEverywhere() ? `${MODULE_PATH} debug` : MODULE_PATH;
    const text = lines.map((l) => l.replace(/\{module\}/g, module)).join('\n') + '\n';
    fs.writeFileSync(path.join(this.pamDir, name), text);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
