// A private server the sandbox runs as a child process in a directory of its own: paused and
// resumed by the tests, ended woken first (a paused server ignores SIGTERM until it runs
// again), asked with SIGTERM, killed when it takes too long; and knowing that a server which
// answers on a port is that child.
import { ChildProcess } from 'child_process';
import fs from 'fs';

/** What slapd, the KDC and MariaDB of the sandbox share: launch() sets `child`. */
export abstract class ChildServer {
  protected child: ChildProcess | null = null;

  protected constructor(readonly dir: string, private readonly graceMs = 10000) {}

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server, keeping its directory for launch(). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    await stopChildServer(child, this.graceMs);
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function stopChildServer(child: ChildProcess | null, graceMs = 10000): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether process pid holds the socket listening on TCP port `port`: so a server that came up
 * is known to be ours, not another test's that took the port while ours was stopped. */
export function listensOn(pid: number | undefined, port: number): boolean {
  if (pid === undefined) return false;
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex, st 0A is LISTEN, the inode is the tenth field.
      if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      return m !== null && inodes.has(m[1]);
    } catch {
      return false;
    }
  });
}
