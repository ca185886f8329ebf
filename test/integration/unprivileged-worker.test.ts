// The worker as a user of its own (finding 9 of issue 12): the module trusts root and the
// worker's system user behind the socket and no one else; the worker makes itself
// non-dumpable; it reads a peer's groups from the socket, so allowed_groups works where /proc
// hides other users' processes (ProtectProc=invisible); socket activation works with the
// worker unprivileged, and SO_PEERCRED then names the worker itself.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { peerCredentials } from '../../src/worker/peer';
import { ActivatedWorker } from '../helpers/activated-worker';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';
import { asUnitRuns, CLIENT_SCRIPT, DAEMON, Identity, NOBODY, startWorkerAs, withPrivateEtc } from '../helpers/unprivileged';

let box: Sandbox;
const started: Array<WorkerProcess | ActivatedWorker> = [];

/** A directory `who` may create its socket in, and that socket's path. */
function runDir(name: string, who: Identity): string {
  const dir = path.join(box.dir, name);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chownSync(dir, who.uid, who.gid);
  return path.join(dir, 'worker.sock');
}

/** The installed layout: root's file, readable by the worker's group only. */
function forGroup(file: string, gid: number): string {
  fs.chownSync(file, 0, gid);
  fs.chmodSync(file, 0o640);
  return file;
}

/** A config and a users file (alice) readable by the group gid, as installed. */
function config(name: string, socket: string, gid: number, worker = ''): string {
  const users = forGroup(box.writeUsers([{ login: 'alice', password: 'wonderland' }], `${name}.users`), gid);
  return forGroup(box.file(name, `[worker]\nsocket = ${socket}\n${worker}\n[store]\npath = ${users}\n`, 0o640), gid);
}

async function worker(who: Identity, name: string, extra = ''): Promise<string> {
  const sock = runDir(name, who);
  started.push(await startWorkerAs(who, config(`${name}.conf`, sock, who.gid, extra), sock));
  return sock;
}

/** A PAM client of its own under a private /etc whose passwd is changed by `sedScript`. */
function clientWithPasswd(sedScript: string, service: string, who: Identity = { uid: 0, gid: 0 }): string {
  // Two sed runs: when a real pam-mapi is the file's last line, a "d" ends that cycle and "$a"
  // would never run.
  const prefix = withPrivateEtc(`sed -i -e '/^pam-mapi:/d' /etc/passwd; sed -i -e '${sedScript}' /etc/passwd`);
  const r = spawnSync(prefix[0], [...prefix.slice(1), 'setpriv', `--reuid=${who.uid}`, `--regid=${who.gid}`, '--clear-groups',
    process.execPath, CLIENT_SCRIPT, box.pamDir, service, 'alice', 'wonderland'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`client failed: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(() => {
  box = Sandbox.create();
  recordSecret('wonderland');
});

afterAll(async () => {
  await Promise.all(started.map((w) => w.stop()));
  await box.cleanup();
});

describe('the module trusts root and the worker user, no one else', () => {
  let daemonSock: string;

  beforeAll(async () => {
    daemonSock = await worker(DAEMON, 'daemon');
  });

  test('a worker running as its own user behind a socket it owns: a real PAM transaction succeeds (worker_user=)', async () => {
    expect(fs.statSync(daemonSock).uid).toBe(DAEMON.uid);
    box.service('own', [`auth required {module} worker=${daemonSock} worker_user=daemon`, `account required {module} worker=${daemonSock} worker_user=daemon`]);
    const mark = syslogMark();
    const r = await pamRun(box, 'own', 'alice', ['wonderland'], { account: true });
    expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect((await pamRun(box, 'own', 'alice', ['wrong-one'])).auth).toBe('PAM_AUTH_ERR');
    // The worker takes worker_user= as the shim's, like worker= (no "unknown option" line).
    expect(moduleLines(await syslogSince(mark), 'unknown option')).toEqual([]);
  });

  test('without worker_user=, the user named pam-mapi is the one trusted, resolved by name', () => {
    box.service('byname', [`auth required {module} worker=${daemonSock}`]);
    // Under a private /etc where pam-mapi is uid 1 (daemon's), the module trusts the worker...
    expect(clientWithPasswd('$a pam-mapi:x:1:1::/nonexistent:/usr/sbin/nologin', 'byname')).toBe('PAM_SUCCESS');
    // ...and where there is no pam-mapi user at all, only root is trusted: no error, a "no".
    expect(clientWithPasswd('$a # no pam-mapi here', 'byname')).toBe('PAM_AUTHINFO_UNAVAIL');
  });

  test('pam-mapi doctor takes a socket of the pam-mapi user as the module does', () => {
    const root = path.join(box.dir, 'doctor-root');
    fs.mkdirSync(path.join(root, 'etc/pam.d'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/pam_mapi.conf'), `[worker]\nsocket = ${daemonSock}\n[store]\npath = ${box.dir}/daemon.conf.users\n`, { mode: 0o600 });
    const prefix = withPrivateEtc("sed -i -e '/^pam-mapi:/d' /etc/passwd; sed -i -e '$a pam-mapi:x:1:1::/nonexistent:/usr/sbin/nologin' /etc/passwd");
    const r = spawnSync(prefix[0], [...prefix.slice(1), process.execPath, path.join(__dirname, '../../src/cli/main.js'), 'doctor', '--root', root, '--json'], { encoding: 'utf8' });
    const rows = (JSON.parse(r.stdout) as { checks: Array<{ check: string; status: string; detail: string }> }).checks.filter((c) => c.check === 'worker socket');
    expect(rows).toEqual([{ check: 'worker socket', status: 'OK', detail: `${daemonSock}: pam-mapi's, mode 0600` }]);
  });

  test('pam-mapi doctor judges a stanza\'s own worker= by that line\'s worker_user=, as the module does', () => {
    const root = path.join(box.dir, 'doctor-stanza-root');
    fs.mkdirSync(path.join(root, 'etc/pam.d'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/pam_mapi.conf'), `[store]\npath = ${box.dir}/daemon.conf.users\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(root, 'etc/pam.d/imap'), `auth required pam_mapi.so worker=${daemonSock} worker_user=daemon\n`);
    fs.writeFileSync(path.join(root, 'etc/pam.d/pop3'), `auth required pam_mapi.so worker=${daemonSock}\n`);
    const r = spawnSync(process.execPath, [path.join(__dirname, '../../src/cli/main.js'), 'doctor', '--root', root, '--json'], { encoding: 'utf8' });
    const rows = (JSON.parse(r.stdout) as { checks: Array<{ check: string; status: string; detail: string }> }).checks.filter((c) => c.check === `worker=${daemonSock}`);
    // imap's line lets daemon serve it; pop3's (pam-mapi, not daemon, on this host) does not.
    expect(rows.map((c) => c.status)).toEqual(['FAIL']);
    expect(rows[0].detail).toContain('named by pam.d/pop3:1');
    expect(rows[0].detail).not.toContain('imap');
  });

  test('a socket owned by another non-root uid is refused: PAM_AUTHINFO_UNAVAIL, not one byte sent', async () => {
    const nobodySock = await worker(NOBODY, 'nobody');
    box.service('other', [`auth required {module} worker=${nobodySock} worker_user=daemon`]);
    const mark = syslogMark();
    const r = await pamRun(box, 'other', 'alice', ['wonderland']);
    expect(r.auth).toBe('PAM_AUTHINFO_UNAVAIL');
    // libpam prompted before the module connected; the password was not sent.
    expect(r.raw.prompts).toHaveLength(1);
    expect(moduleLines(await syslogSince(mark), nobodySock)[0]).toMatch(/is not a socket owned by root or daemon \(owner uid 65534\): refusing/);
    // A root-owned file served by that uid: SO_PEERCRED refuses it before anything is sent.
    fs.chownSync(nobodySock, 0, 0);
    const mark2 = syslogMark();
    expect((await pamRun(box, 'other', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark2), nobodySock)[0]).toMatch(/runs as uid 65534, not root or daemon: refusing/);
    const nobody = started[started.length - 1] as WorkerProcess;
    // It saw a connection close, never a request.
    expect(nobody.output).not.toMatch(/ request op=| request\.start /);
  });

  test('a worker_user that does not exist leaves root the only one trusted', async () => {
    box.service('nouser', [`auth required {module} worker=${daemonSock} worker_user=no-such-user-here`]);
    const mark = syslogMark();
    expect((await pamRun(box, 'nouser', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark), daemonSock)[0]).toMatch(/not a socket owned by root or no-such-user-here \(owner uid 1\)/);
  });

  test('the worker is non-dumpable: its /proc files are root\'s though it runs as daemon', () => {
    const w = started[0] as WorkerProcess;
    const pid = w.child.pid as number;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('1');
    // proc(5): files of a process whose dumpable attribute is not 1 are owned by root.
    expect(fs.statSync(`/proc/${pid}/status`).uid).toBe(0);
    expect(fs.statSync(`/proc/${pid}/mem`).uid).toBe(0);
  });
});

test('allowed_groups through SO_PEERGROUPS: a member by a supplementary group gets in where /proc hides the peer', async () => {
  // The worker (daemon, also in nogroup to give its socket that group) sees only its own
  // processes in /proc, as under ProtectProc=invisible; the client is nobody, in mail (8) or not.
  const sock = runDir('groups', DAEMON);
  const conf = config('groups.conf', sock, DAEMON.gid, 'socket_mode = 0660\nsocket_group = nogroup\nallowed_uids = 0\nallowed_groups = mail\n');
  started.push(await startWorkerAs({ ...DAEMON, groups: [65534] }, conf, sock));
  box.service('groups', [`auth required {module} worker=${sock} worker_user=daemon`]);
  const run = (groups: string): string => execFileSync('setpriv', ['--reuid', String(NOBODY.uid), '--regid', String(NOBODY.gid), '--groups', groups,
    process.execPath, CLIENT_SCRIPT, box.pamDir, 'groups', 'alice', 'wonderland'], { encoding: 'utf8' }).trim();
  expect(run(`${NOBODY.gid},8`)).toBe('PAM_SUCCESS');
  expect(run(String(NOBODY.gid))).toBe('PAM_AUTHINFO_UNAVAIL');
});

test('socket activation with the worker unprivileged: root\'s socket, the worker accepts, SO_PEERCRED names the worker', async () => {
  const sock = path.join(box.dir, 'activated.sock');
  const conf = config('activated.conf', sock, DAEMON.gid);
  const w = new ActivatedWorker(sock, conf, asUnitRuns(DAEMON));
  started.push(w);
  await w.listening(1);
  // The activator (systemd's part, root) made the socket: root's, mode 0600.
  const st = fs.statSync(sock);
  expect([st.uid, st.mode & 0o777]).toEqual([0, 0o600]);
  box.service('activated', [`auth required {module} worker=${sock} worker_user=daemon`, `account required {module} worker=${sock} worker_user=daemon`]);
  const r = await pamRun(box, 'activated', 'alice', ['wonderland'], { account: true });
  expect([r.auth, r.account]).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
  // Node calls listen() again on the inherited descriptor, which makes the listener's
  // credentials the worker's: a connection made now is told the worker's pid and uid, not
  // the activator's.
  const workerPid = Number(/started 1 (\d+)/.exec(w.output)?.[1]);
  const c = net.connect(sock);
  await new Promise((res) => c.once('connect', res));
  const fd = (c as unknown as { _handle: { fd: number } })._handle.fd;
  const cred = peerCredentials(fd);
  c.destroy();
  expect([cred.pid, cred.uid, cred.gid]).toEqual([workerPid, DAEMON.uid, DAEMON.gid]);
  expect(cred.pid).not.toBe(w.pid);
});

test('socket activation, worker unprivileged: logins that wait in the backlog (before the first worker, during a restart) are served', async () => {
  const sock = path.join(box.dir, 'backlog.sock');
  const conf = config('backlog.conf', sock, DAEMON.gid);
  box.service('backlog', [`auth required {module} worker=${sock} worker_user=daemon`]);
  const w = new ActivatedWorker(sock, conf, asUnitRuns(DAEMON));
  started.push(w);
  // The activator's socket listens before the worker does: these connect to it meanwhile
  // (SO_PEERCRED then names the activator, root) and wait. Not as soon as the file exists:
  // the activator binds (the file appears) before it listens, and a connection in between is
  // refused. "started 1" comes after its listen().
  while (!/started 1 /.test(w.output)) await new Promise((r) => setTimeout(r, 5));
  const early = Promise.all(Array.from({ length: 4 }, () => pamRun(box, 'backlog', 'alice', ['wonderland'])));
  await w.listening(1);
  expect((await early).map((r) => r.auth)).toEqual(Array(4).fill('PAM_SUCCESS'));
  // A restart: connections made meanwhile name the worker that stopped (uid daemon).
  w.restart();
  const during = await Promise.all(Array.from({ length: 8 }, () => pamRun(box, 'backlog', 'alice', ['wonderland'])));
  await w.listening(2);
  expect(during.map((r) => r.auth)).toEqual(Array(8).fill('PAM_SUCCESS'));
});

test('the worker as its own user still reads the pam.d baseline: a stanza gone since is reported at start', async () => {
  // A test root for /etc/pam.d and /var/lib/pam_mapi; the baseline saved by root, as
  // pam-mapi doctor --save-baseline does after an install.
  const root = path.join(box.dir, 'baseline-root');
  fs.mkdirSync(path.join(root, 'etc/pam.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/pam.d/smtp'), 'auth required pam_mapi.so\n');
  const cli = path.join(__dirname, '../../src/cli/main.js');
  execFileSync(process.execPath, [cli, 'doctor', '--root', root, '--save-baseline'], { encoding: 'utf8' });
  fs.rmSync(path.join(root, 'etc/pam.d/smtp'));
  const sock = runDir('baseline', DAEMON);
  const w = await startWorkerAs(DAEMON, config('baseline.conf', sock, DAEMON.gid), sock, { PAM_MAPI_ROOT: root });
  started.push(w);
  expect(w.output).toMatch(/warning pamd.stanza_gone service=smtp /);
});
