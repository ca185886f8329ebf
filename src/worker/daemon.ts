// The worker's daemon mode, for hosts without systemd (a SysV init script, OpenRC): the command
// returns once a detached copy of the worker is listening, and that copy keeps its pid in a
// pid file for the init script. Node cannot fork(), so the copy is a new process started with
// the same Node flags and arguments. Until it listens it writes its error lines, then "ready",
// to a pipe on its fd 3 (synchronous writes: nothing is lost when it exits at once), so the
// starter can print why it failed and return only when the worker serves.
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { Fields, Level, Logger } from '../log/logger';
import { makeOpenDir } from './server';

/** Set in the detached copy's environment: it is the daemon, it must not detach again. */
const DETACHED_ENV = 'PAM_MAPI_WORKER_DETACHED';
const STARTUP_FD = 3;
const READY = 'ready';

// Read once and removed, so nothing this process starts inherits it; believed only while fd 3
// is open as the starter's pipe (Node makes it a socket pair).
const detachedCopy = process.env[DETACHED_ENV] === '1' && isPipe(STARTUP_FD);
delete process.env[DETACHED_ENV];

function isPipe(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

export function isDetachedCopy(): boolean {
  return detachedCopy;
}

/** The file the daemon's standard output and error go to: appended to, never followed through
 * a symbolic link, created 0640. */
function openLog(file: string): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW } = fs.constants;
  return fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o640);
}

/**
 * Starts the detached copy (own session, working directory /, standard input /dev/null,
 * standard output and error to logFile, or /dev/null when none is given) and resolves with the
 * exit status for this process: 0 once the copy says it is listening, 1 when it exits first
 * (after printing the error lines it logged).
 */
export function detach(logFile: string | undefined): Promise<number> {
  let out: number | 'ignore' = 'ignore';
  if (logFile !== undefined) {
    try {
      out = openLog(logFile);
    } catch (e) {
      process.stderr.write(`pam-mapi-worker: cannot open the log file: ${(e as Error).message}\n`);
      return Promise.resolve(1);
    }
  }
  const env: NodeJS.ProcessEnv = { ...process.env, [DETACHED_ENV]: '1' };
  // A systemd that started this command handed its sockets to this pid, not to the copy.
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    cwd: '/',
    stdio: ['ignore', out, out, 'pipe'],
    env,
  });
  if (typeof out === 'number') fs.closeSync(out);
  const startup = child.stdio[STARTUP_FD] as NodeJS.ReadableStream;
  let said = '';
  return new Promise((resolve) => {
    startup.setEncoding('utf8');
    startup.on('data', (chunk: string) => {
      said += chunk;
      if (said.split('\n').includes(READY)) {
        child.removeAllListeners('exit');
        (startup as unknown as { destroy(): void }).destroy();
        child.unref();
        resolve(0);
      }
    });
    child.once('exit', (code, signal) => {
      for (const line of said.split('\n')) if (line !== '') process.stderr.write(`pam-mapi-worker: ${line}\n`);
      process.stderr.write(`pam-mapi-worker: the worker exited (${signal ?? `status ${code}`}) before it was listening\n`);
      resolve(1);
    });
    child.once('error', (e) => {
      process.stderr.write(`pam-mapi-worker: cannot start the worker: ${e.message}\n`);
      resolve(1);
    });
  });
}

/** In the detached copy, until it is ready: error lines also go to the starter. */
export class StartupRelay implements Logger {
  private open = isDetachedCopy();

  constructor(private readonly inner: Logger) {}

  log(level: Level, event: string, fields?: Fields): void {
    this.inner.log(level, event, fields);
    if (!this.open || level !== 'error') return;
    try {
      fs.writeSync(STARTUP_FD, `${event}: ${String(fields?.message ?? '')}\n`);
    } catch {
      this.open = false; // the starter is gone; the log file has the line
    }
  }

  /** Tells the starter the worker is listening, and closes the pipe. */
  ready(): void {
    if (!this.open) return;
    this.open = false;
    try {
      fs.writeSync(STARTUP_FD, `${READY}\n`);
      fs.closeSync(STARTUP_FD);
    } catch {
      // The starter is gone: nobody to tell.
    }
  }
}

/**
 * Writes this process's pid to file (its directory created 0755 when missing), atomically: a
 * private temporary file renamed over it, so a reader never sees half a pid and a symbolic link
 * at the path is replaced, not followed. Removed at exit while it still holds this pid.
 */
export function writePidFile(file: string): void {
  makeOpenDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  try {
    fs.writeSync(fd, `${process.pid}\n`);
    fs.fchmodSync(fd, 0o644);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  process.on('exit', () => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // Already gone, or replaced by another worker's: nothing of ours to remove.
    }
  });
}
