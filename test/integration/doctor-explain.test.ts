// The doctor and `check` explain (issue 13, findings 4 and 5): the doctor connects to every
// worker= a stanza names; `check` prints the module's reason, says when the service file is
// missing and libpam fell back to `other`, and leaves no "no default config other" in syslog.
import { execFileSync, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { MODULE_PATH, REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { syslogMark, syslogSince } from '../helpers/syslog';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
interface Report { checks: Array<{ check: string; status: string; detail: string; fix?: string }> }

let box: Sandbox;
beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  await box.startWorker(box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\ndisabled_features = imap pop3\n`));
});
afterAll(async () => { await box.cleanup(); });

function cli(args: string[], input = ''): { status: number | null; out: string } {
  if (input !== '') recordSecret(input.trim());
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('finding 4: the doctor connects to every worker= a stanza names; one that points nowhere or where no worker answers FAILs with a fix', async () => {
  const root = path.join(box.dir, 'root');
  fs.mkdirSync(path.join(root, 'etc/pam.d'), { recursive: true });
  // The config's own socket is another path: the stanzas' sockets are checked on their own.
  fs.writeFileSync(path.join(root, 'etc/pam_mapi.conf'), `[worker]\nsocket = ${box.dir}/config.sock\n[store]\ntype = file\npath = ${box.dir}/users\n`, { mode: 0o600 });
  // A socket file nobody listens on any more (a worker that died without cleaning up).
  const stale = path.join(box.dir, 'stale.sock');
  execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
  fs.writeFileSync(path.join(root, 'etc/pam.d/smtp'), `auth required pam_mapi.so try_first_pass worker=${box.dir}/nowhere.sock\naccount required pam_mapi.so worker=${box.dir}/nowhere.sock\n`);
  fs.writeFileSync(path.join(root, 'etc/pam.d/imap'), `auth required pam_mapi.so service=imap worker=${box.socketPath}\n`);
  fs.writeFileSync(path.join(root, 'etc/pam.d/pop3'), `auth required pam_mapi.so service=pop3 worker=${stale}\n`);
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--json', '--root', root], { encoding: 'utf8' });
  const rows = (JSON.parse(r.stdout) as Report).checks.filter((c) => c.check.startsWith('worker='));
  // In the order of the files that name them: imap, pop3, smtp.
  expect(rows).toEqual([
    { check: `worker=${box.socketPath}`, status: 'OK', detail: expect.stringMatching(/^a worker answers \(named by pam.d\/imap:1\)/) },
    { check: `worker=${stale}`, status: 'FAIL', detail: expect.stringMatching(/^no worker answers on .*stale.sock \(named by pam.d\/pop3:1\): .*ECONNREFUSED/), fix: expect.stringMatching(/start the worker that listens on .*stale.sock/) },
    { check: `worker=${box.dir}/nowhere.sock`, status: 'FAIL', detail: expect.stringMatching(/nowhere.sock \(named by pam.d\/smtp:1, pam.d\/smtp:2\) does not exist: every login through these lines gets PAM_AUTHINFO_UNAVAIL/), fix: `edit pam.d/smtp:1, pam.d/smtp:2: worker=${box.dir}/config.sock (the socket in ${root}/etc/pam_mapi.conf), or start the worker that listens on ${box.dir}/nowhere.sock` },
  ]);
  expect(rows).toHaveLength(3);
});

test('finding 5: check prints the module\'s reason, heard from the worker', () => {
  const denied = cli(['check', 'alice', '--service', 'imap', '--worker', box.socketPath], 'wonderland\n');
  expect(denied.out).toMatch(/\nreason +authenticate: PERM_DENIED \(none of the features imap is enabled\)\n/);
  expect(denied.status).toBe(1);
  const wrong = cli(['check', 'alice', '--worker', box.socketPath], 'nope\n');
  expect(wrong.out).toMatch(/\nreason +authenticate: AUTH_ERR \(wrong password\)\n/);
  // A success has nothing to explain: the output stays as it was.
  expect(cli(['check', 'alice', '--worker', box.socketPath], 'wonderland\n').out).toBe('authenticate PAM_SUCCESS (Success)\nacct_mgmt    PAM_SUCCESS (Success)\nalice: accepted\n');
});

test('finding 5: check --pam with the service file gone says libpam fell back to other, and that pam_mapi was never asked', () => {
  const dir = path.join(box.dir, 'pam-fallback');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  fs.writeFileSync(path.join(dir, 'imap'), `auth required ${path.join(REPO_ROOT, 'build/Release/pam_mapi.so')} service=imap worker=${box.socketPath}\n`);
  const r = cli(['check', 'alice', '--pam', 'smtp', '--pam-dir', dir], 'wonderland\n');
  expect(r.out).toContain(`note: ${dir}/smtp does not exist: libpam used ${dir}/other instead\n`);
  expect(r.out).toContain('note: pam_mapi was not asked: no pam_mapi line of smtp\'s stack ran\n');
  expect(r.status).toBe(1);
  // Through a stanza that exists, the reason of the line's own worker (with the stanza's
  // service=) is heard, and the stanza in the directory is left as it was.
  const imap = cli(['check', 'alice', '--pam', 'imap', '--pam-dir', dir], 'wonderland\n');
  expect(imap.out).toMatch(/\nreason +authenticate: PERM_DENIED \(none of the features imap is enabled\)\n/);
  expect(imap.out).not.toContain('note:');
  expect(fs.readFileSync(path.join(dir, 'imap'), 'utf8')).not.toContain('debug');
});

test('check leaves no "_pam_init_handlers: no default config other" in syslog', async () => {
  const mark = syslogMark();
  cli(['check', 'alice', '--worker', box.socketPath], 'wonderland\n');
  const lines = await syslogSince(mark, 150, 'any');
  expect(lines.filter((l) => l.includes('no default config'))).toEqual([]);
});

test('check\'s relay makes the module\'s own checks on the real socket: no byte goes to a worker not run by root', async () => {
  // A fake worker: a socket root created, served by a process that then became nobody.
  const fake = path.join(box.dir, 'fake.sock');
  const py = spawn('python3', ['-c', [
    'import os, socket, sys',
    's = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.setuid(65534); s.listen(4); s.settimeout(8)',
    'try:',
    '    c, _ = s.accept(); c.settimeout(2); data = c.recv(65536)',
    'except OSError:',
    '    data = b""',
    'print(len(data))',
  ].join('\n'), fake], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  py.stdout.on('data', (d: Buffer) => { got += d.toString(); });
  const until = Date.now() + 5000;
  while (!fs.existsSync(fake) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  const r = cli(['check', 'alice', '--worker', fake], 'wonderland\n');
  expect(r.out).toContain(`note: the process serving ${fake} runs as uid 65534, not root: refusing to talk to it\n`);
  expect(r.out).toContain('PAM_AUTHINFO_UNAVAIL');
  expect(r.status).toBe(1);
  await new Promise((resolve) => py.on('exit', resolve));
  // The relay connected (to read the peer's credentials) and sent nothing.
  expect(got).toBe('0\n');
  // A socket owned by another user is not even connected to.
  const owned = path.join(box.dir, 'owned.sock');
  execFileSync('python3', ['-c', 'import os, socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1]); os.chown(sys.argv[1], 65534, 65534)', owned]);
  expect(cli(['check', 'alice', '--worker', owned], 'wonderland\n').out).toContain(`note: ${owned} is not a socket owned by root or the worker's user (uid 65534): refusing to talk to it\n`);
  // worker_user= is a user name, as the module's getpwnam() reads it: "65534" names no user, so
  // the module trusts root alone there, and so does the relay (it used to take the number as a uid).
  const numeric = fs.mkdtempSync(path.join(box.dir, 'numeric-'));
  fs.writeFileSync(path.join(numeric, 'smtp'), `auth required ${MODULE_PATH} worker=${owned} worker_user=65534\n`);
  expect(cli(['check', 'alice', '--pam', 'smtp', '--pam-dir', numeric], 'wonderland\n').out).toContain(`note: ${owned} is not a socket owned by root or the worker's user (uid 65534): refusing to talk to it\n`);
}, 20000);
