// The worker under an init other than systemd: --daemon returns once a detached worker is
// listening, the pid file names it, SIGTERM stops it and takes the pid file with it; and the
// socket's directory gets the mode pam-mapi-worker(8) documents, whatever the umask.
import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { Sandbox, WORKER_MAIN } from '../../src/sandbox/sandbox';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';
import { pamRun } from '../helpers/pam';

let box: Sandbox;

beforeAll(() => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  box.service('smtp', [`auth required {module} ${box.workerArg}`, `account required {module} ${box.workerArg}`]);
});
afterAll(async () => {
  await box.cleanup();
});

/** Runs the worker command as an init script would, and waits for it to return. */
function workerCommand(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [...WORKER_NODE_FLAGS, WORKER_MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('--daemon returns once the worker listens; the pid file names it; SIGTERM stops it and removes the pid file', async () => {
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`);
  const pidFile = path.join(box.dir, 'run', 'worker.pid');
  const logFile = path.join(box.dir, 'worker.log');
  const started = workerCommand(['--config', config, '--daemon', '--pid-file', pidFile, '--log-file', logFile]);
  expect(started).toEqual({ status: 0, stderr: '' });
  // Ready when the command returned: the socket answers and the pid file is there.
  expect(fs.statSync(box.socketPath).isSocket()).toBe(true);
  const text = fs.readFileSync(pidFile, 'utf8');
  expect(text).toMatch(/^[0-9]+\n$/);
  const pid = Number(text);
  expect(alive(pid)).toBe(true);
  expect(fs.statSync(pidFile).mode & 0o777).toBe(0o644);
  expect(fs.statSync(path.dirname(pidFile)).mode & 0o777).toBe(0o755);
  // Detached: a session of its own, not the starter's child.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  expect(Number(stat[3])).toBe(pid); // session id
  expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
  try {
    const run = await pamRun(box, 'smtp', 'alice', ['wonderland'], { account: true });
    expect([run.auth, run.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(fs.readFileSync(logFile, 'utf8')).toMatch(/ notice listening socket=\S+worker\.sock /);
  } finally {
    process.kill(pid, 'SIGTERM');
    await until('the daemon exits', () => !alive(pid));
  }
  expect(fs.existsSync(pidFile)).toBe(false);
  expect(fs.existsSync(box.socketPath)).toBe(false);
  expect(fs.readFileSync(logFile, 'utf8')).toMatch(/ notice stopping signal=SIGTERM /);
});

test('--daemon with a broken config: the command fails, says why, and leaves no pid file', () => {
  const config = box.file('broken.conf', '[worker]\nsocket = relative/path\n[store]\ntype = nosuchstore\n');
  const pidFile = path.join(box.dir, 'broken.pid');
  const r = workerCommand(['--config', config, '--daemon', '--pid-file', pidFile]);
  expect(r.status).toBe(1);
  // The starter prints the reason the worker logged (here to no log file at all).
  expect(r.stderr).toMatch(/config\.invalid/);
  expect(r.stderr).toMatch(/the worker exited \(status 1\) before it was listening/);
  expect(fs.existsSync(pidFile)).toBe(false);
});

test('a second --daemon on the same socket fails and leaves the first one and its pid file alone', async () => {
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`);
  const pidFile = path.join(box.dir, 'first.pid');
  expect(workerCommand(['--config', config, '--daemon', '--pid-file', pidFile]).status).toBe(0);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try {
    const second = workerCommand(['--config', config, '--daemon', '--pid-file', path.join(box.dir, 'second.pid')]);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/another worker already answers on/);
    expect(fs.existsSync(path.join(box.dir, 'second.pid'))).toBe(false);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBe(pid);
  } finally {
    process.kill(pid, 'SIGTERM');
    await until('the daemon exits', () => !alive(pid));
  }
});

test('the socket directory the worker creates is mode 0755, as documented, even under umask 077', async () => {
  const socket = path.join(box.dir, 'rundir', 'worker.sock');
  const config = box.file('rundir.conf', `[worker]\nsocket = ${socket}\n[store]\npath = ${box.dir}/users\n`);
  // The unit's UMask=0077, without socket activation.
  const child = spawn('sh', ['-c', `umask 077; exec "$0" "$@"`, process.execPath, ...WORKER_NODE_FLAGS, WORKER_MAIN, '--config', config], { stdio: 'ignore' });
  try {
    await until('the worker listens', () => fs.existsSync(socket));
    expect(fs.statSync(path.dirname(socket)).mode & 0o777).toBe(0o755);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
