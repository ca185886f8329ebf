// Ending a private server the sandbox runs as a child process: woken first (a paused server
// ignores SIGTERM until it runs again), asked with SIGTERM, killed when it takes too long.
import { ChildProcess } from 'child_process';

export async function stopChildServer(child: ChildProcess | null, graceMs = 10000): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
