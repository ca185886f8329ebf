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

  /** Resolves once every thread of the server is stopped. SIGSTOP stops a process in two steps:
   * the kernel wakes one of its threads, and that thread stops the others when it next runs. On a
   * busy machine the others go on serving until then, so a request sent as soon as kill() returns
   * could still be answered by a server the test believes paused. */
  async pause(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server (pid ${child.pid}) has exited: nothing to pause`);
    const pid = child.pid;
    child.kill('SIGSTOP');
    try {
      await untilStopped(pid, timeoutMs);
    } catch (e) {
      child.kill('SIGCONT'); // half stopped is neither state a test can reason about
      throw e;
    }
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

/** Waits until every thread of process pid is in the stopped state ("T" in its stat). */
async function untilStopped(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!allThreadsStopped(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} was sent SIGSTOP but not every thread stopped within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Whether every thread of pid is stopped; false while any runs or sleeps, or pid is gone. */
export function allThreadsStopped(pid: number): boolean {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tids.length > 0 && tids.every((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the command name in parentheses, which may itself hold ") ".
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    } catch {
      return false; // a thread that ended between readdir and read: look again
    }
  });
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
