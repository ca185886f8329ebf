// Starts a peer's daemon (nslcd, sssd) in a mount namespace of its own, where `script` (bash,
// with $D the daemon's private directory) binds that directory over the paths the daemon's
// build fixes, starts it and prints `pid=N`. The namespace lives as long as the daemon, so its
// files never show under the real paths and nothing is left there after the run.
import { spawn } from 'child_process';

export async function startNamespacedDaemon(name: string, script: string, dir: string): Promise<number> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script], {
      env: { ...process.env, D: dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => { text += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { text += d.toString('utf8'); });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${name} did not start (${code}): ${text}`))));
  });
  const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
  if (!(pid > 0)) throw new Error(`${name} did not start: ${out}`);
  return pid;
}
