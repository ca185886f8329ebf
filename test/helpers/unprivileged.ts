// Runs processes the way the shipped unit runs the worker: as a user of its own, with no
// groups but the ones given, and with /proc mounted as ProtectProc=invisible + ProcSubset=pid
// mount it (other users' processes hidden, no /proc/meminfo and the like). And a private copy
// of /etc, for a client that must see an account the host does not have, or an install that
// creates one.
import { spawn } from 'child_process';
import path from 'path';
import { WORKER_MAIN, WorkerProcess } from '../../src/sandbox/sandbox';
import { debugEverywhere } from '../../src/sandbox/secret-audit';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';

export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary groups; none when absent. */
  groups?: number[];
}

/** daemon:daemon on every Debian and RHEL system, never used by the tests otherwise. */
export const DAEMON: Identity = { uid: 1, gid: 1 };
export const NOBODY: Identity = { uid: 65534, gid: 65534 };

/** A command prefix: a private mount namespace whose /proc hides other users' processes, then
 * the identity (setpriv execs, so the final program keeps the first process's pid). */
export function asUnitRuns(who: Identity): string[] {
  const groups = who.groups === undefined || who.groups.length === 0 ? ['--clear-groups'] : [`--groups=${who.groups.join(',')}`];
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t proc -o hidepid=invisible,subset=pid proc /proc && exec "$@"', 'sh',
    'setpriv', `--reuid=${who.uid}`, `--regid=${who.gid}`, ...groups, '--inh-caps=-all'];
}

/** A worker started as `who` (not socket-activated): it binds its socket itself. */
export async function startWorkerAs(who: Identity, configPath: string, socketPath: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const debug = debugEverywhere() ? ['--debug'] : [];
  const [cmd, ...args] = [...asUnitRuns(who), process.execPath, ...WORKER_NODE_FLAGS, WORKER_MAIN, '--config', configPath, ...debug];
  const w = new WorkerProcess(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }), socketPath);
  await w.ready();
  return w;
}

/** A command prefix: a private mount namespace where /etc is a copy of the host's, changed by
 * `prepare` (shell commands) before the command runs; the host's /etc is never written. */
export function withPrivateEtc(prepare: string): string[] {
  const script = [
    'set -e',
    'etc=$(mktemp -d /tmp/pam_mapi-etc-XXXXXX)',
    'trap \'umount /etc 2>/dev/null; rm -rf "$etc"\' EXIT',
    'cp -a /etc/. "$etc"/',
    'mount --bind "$etc" /etc',
    prepare,
    '"$@"',
  ].join('\n');
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh'];
}

export const CLIENT_SCRIPT = path.join(__dirname, 'pam-client-cli.js');
