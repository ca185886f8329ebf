// The Debian package through its whole life, with the real dpkg and maintainer scripts, in a
// throwaway copy of this machine's root (test/helpers/overlay-root.ts says why that way): on
// Debian 12's own Node.js (18), install, log in through the installed module and worker with a
// real PAM transaction, upgrade over itself, remove, purge, and nothing is left.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { REPO_ROOT, usersFileLine } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { OverlayRoot, Ran } from '../helpers/overlay-root';

// Where scripts/bootstrap.sh downloads Debian 12's nodejs 18 and what it needs.
const NODE_DEBS = '/var/cache/pam_mapi-test/debian-node';
const PIDFILE = '/run/pam_mapi/worker.pid';

let root: OverlayRoot;
let deb: string;
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-deb-out-'));
let beforePackage: Map<string, string>;
// The account files as they were before the package: compared by content, since other work on
// this machine may edit the real ones (the layer underneath) meanwhile.
const ACCOUNTS = 'cat /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/subuid /etc/subgid';
let accountsBefore: string;

const ok = (r: Ran): string => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

beforeAll(async () => {
  deb = path.resolve(REPO_ROOT, execFileSync('bash', [path.join(REPO_ROOT, 'scripts/deb.sh')], { encoding: 'utf8', env: { ...process.env, DEB_OUTDIR: outDir } }).trim().split('\n').pop() ?? '');
  root = await OverlayRoot.create();
  root.copyIn(deb, '/tmp/pam-mapi.deb');
}, 300_000);

afterAll(async () => {
  // A worker the test started must not outlive it, whatever failed.
  root?.run(`[ -f ${PIDFILE} ] && kill $(cat ${PIDFILE}) || true`);
  await root?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
});

test("Debian 12's own Node.js is what the package's Depends accept and what runs it", () => {
  const debs = fs.existsSync(NODE_DEBS) ? fs.readdirSync(NODE_DEBS).filter((f) => f.endsWith('.deb')) : [];
  // scripts/bootstrap.sh downloads them; without them this test cannot show anything.
  expect(debs.filter((f) => /^nodejs_18\./.test(f))).toHaveLength(1);
  for (const f of debs) root.copyIn(path.join(NODE_DEBS, f), `/tmp/node/${f}`);
  // This machine's Node (NodeSource's package, which conflicts with Debian's libnode) makes room
  // in the throwaway root only.
  ok(root.run('dpkg --remove --force-depends nodejs </dev/null >/dev/null 2>&1; dpkg -i /tmp/node/*.deb </dev/null'));
  expect(ok(root.run('node --version'))).toMatch(/^v18\.(19|20)\./);
  root.run('rm -rf /tmp/node');
  // A host where `npm run install:system` ran may have the package's user already: start this
  // root from a system without it, so that the package's own creation and removal show.
  root.run('deluser --system --quiet pam-mapi >/dev/null 2>&1; delgroup --system --quiet pam-mapi >/dev/null 2>&1');
  expect(root.run('getent passwd pam-mapi || getent group pam-mapi').stdout).toBe('');
  beforePackage = root.changes();
  accountsBefore = ok(root.run(ACCOUNTS));
}, 300_000);

test('dpkg -i: the system user, the config from the sample, the socket unit enabled', () => {
  const install = root.run('dpkg -i /tmp/pam-mapi.deb </dev/null');
  // deb-systemd-helper says what it enabled, as in every package dh_installsystemd makes.
  expect(install.stderr).toMatch(/^Created symlink \/etc\/systemd\/system\/sockets\.target\.wants\/pam-mapi-worker\.socket -> \S+\.\n$/);
  expect(install.status).toBe(0);
  expect(ok(root.run("dpkg-query -W -f='${Status} ${Version}' pam-mapi"))).toMatch(/^install ok installed /);
  expect(ok(root.run('getent passwd pam-mapi'))).toMatch(/^pam-mapi:x:\d+:\d+:[^:]*:\/nonexistent:\/usr\/sbin\/nologin\n$/);
  expect(ok(root.run('stat -c "%a %U %G" /etc/pam_mapi.conf /etc/pam_mapi /etc/pam_mapi/users'))).toBe('640 root pam-mapi\n750 root pam-mapi\n640 root pam-mapi\n');
  // The postinst saved the pam.d baseline: state the purge must take away again.
  expect(root.run('test -f /var/lib/pam_mapi/pam.d-baseline.json').status).toBe(0);
  // /lib is /usr/lib on a merged-/usr system: deb-systemd-helper names it by the old path.
  expect(ok(root.run('readlink -f /etc/systemd/system/sockets.target.wants/pam-mapi-worker.socket'))).toBe('/usr/lib/systemd/system/pam-mapi-worker.socket\n');
  // Everything under /usr: nothing in /lib, nothing of tests, demo or sandboxes.
  const files = ok(root.run('dpkg -L pam-mapi'));
  expect(files).toContain('/usr/lib/x86_64-linux-gnu/security/pam_mapi.so\n');
  expect(files.split('\n').filter((f) => f !== '' && f !== '/.' && !f.startsWith('/usr'))).toEqual([]);
  expect(files).not.toMatch(/sandbox|demo|secret-audit|\/test\/|\.d\.ts\n|node-addon-api|node_modules\/@types/);
});

test('the fresh install with its worker running (as the socket unit starts it under systemd): a doctor without FAIL', () => {
  ok(root.run(`pam-mapi-worker --daemon --pid-file ${PIDFILE} --log-file /tmp/worker.log`));
  const doctor = root.run('pam-mapi doctor');
  expect(doctor.stdout).toMatch(/^config +OK /m);
  expect(doctor.stdout).toMatch(/^store default \(file\) +OK /m);
  // Only the stanza the administrator has yet to write is worth a word.
  expect(doctor.stdout).not.toMatch(/ FAIL |[1-9]\d* FAIL/);
});

test('a real login through the installed module and the worker, on Node 18', async () => {
  recordSecret('wonderland');
  const line = usersFileLine({ login: 'alice', password: 'wonderland' });
  ok(root.run(`printf '%s\\n' '${line}' >> /etc/pam_mapi/users`));
  // The throwaway root's own /etc/pam.d, not the machine's.
  ok(root.run('printf "auth required pam_mapi.so\\naccount required pam_mapi.so\\n" > /etc/pam.d/smtp'));
  const pid = ok(root.run(`cat ${PIDFILE}`)).trim();
  expect(ok(root.run(`readlink /proc/${pid}/exe`))).toMatch(/^\/usr\/bin\/node(js)?\n$/);
  expect(ok(root.run(`/proc/${pid}/exe --version`))).toMatch(/^v18\./);
  // The file store looks at the users file again at most once a second.
  let good = root.run('pam-mapi check alice --pam smtp', 'wonderland\n');
  for (let i = 0; i < 20 && /PAM_USER_UNKNOWN/.test(good.stdout); i++) {
    await new Promise((r) => setTimeout(r, 250));
    good = root.run('pam-mapi check alice --pam smtp', 'wonderland\n');
  }
  expect(good.stdout).toMatch(/PAM_SUCCESS/);
  expect(good.status).toBe(0);
  const bad = root.run('pam-mapi check alice --pam smtp', 'looking-glass\n');
  expect(bad.stdout).toMatch(/PAM_AUTH_ERR/);
  expect(bad.status).not.toBe(0);
});

test('the example SysV init script starts, reports and stops the worker (daemon mode)', async () => {
  ok(root.run(`kill $(cat ${PIDFILE})`));
  for (let i = 0; i < 100 && root.run(`test -e ${PIDFILE}`).status === 0; i++) await new Promise((r) => setTimeout(r, 100));
  ok(root.run('install -m 0755 /usr/share/doc/pam-mapi/examples/init.d/pam-mapi-worker /etc/init.d/pam-mapi-worker'));
  ok(root.run('/etc/init.d/pam-mapi-worker start'));
  expect(ok(root.run(`stat -c %a /run/pam_mapi; cat ${PIDFILE}`))).toMatch(/^755\n\d+\n$/);
  expect(root.run('pam-mapi check alice --pam smtp', 'wonderland\n').status).toBe(0);
  expect(root.run('/etc/init.d/pam-mapi-worker status').status).toBe(0);
  ok(root.run('/etc/init.d/pam-mapi-worker stop'));
  expect(root.run(`test -e ${PIDFILE}`).status).not.toBe(0);
  expect(root.run('/etc/init.d/pam-mapi-worker status').status).not.toBe(0);
  expect(ok(root.run('cat /var/log/pam-mapi-worker.log'))).toMatch(/ notice listening [^\n]*\n[^]* notice stopping signal=SIGTERM /);
  // Running again, for the removal below to stop.
  ok(root.run('/etc/init.d/pam-mapi-worker start'));
});

test('upgrade over itself: no prompt, the edited config kept as it is, still logging in', () => {
  // The administrator tightens and edits the config.
  ok(root.run('echo "; edited by the admin" >> /etc/pam_mapi.conf && chmod 600 /etc/pam_mapi.conf'));
  const before = ok(root.run('sha256sum /etc/pam_mapi.conf'));
  const upgrade = root.run('dpkg -i /tmp/pam-mapi.deb </dev/null');
  expect(upgrade.status).toBe(0);
  expect(upgrade.stderr).toBe('');
  expect(ok(root.run('sha256sum /etc/pam_mapi.conf'))).toBe(before);
  expect(ok(root.run('stat -c %a /etc/pam_mapi.conf'))).toBe('600\n');
  expect(root.run('pam-mapi check alice --pam smtp', 'wonderland\n').status).toBe(0);
});

test('remove: the worker stops, the programs go, the configuration stays', () => {
  const pid = ok(root.run(`cat ${PIDFILE}`)).trim();
  expect(root.run('dpkg -r pam-mapi </dev/null').status).toBe(0);
  expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  expect(root.run('test -e /usr/lib/pam_mapi || test -e /usr/lib/x86_64-linux-gnu/security/pam_mapi.so || test -e /usr/sbin/pam-mapi-worker').status).not.toBe(0);
  expect(ok(root.run('tail -n1 /etc/pam_mapi.conf'))).toBe('; edited by the admin\n');
  expect(ok(root.run("dpkg-query -W -f='${Status}' pam-mapi"))).toBe('deinstall ok config-files');
});

test('purge: nothing of the package is left', () => {
  // The administrator's own files: the test's stanza, the init script installed from the example and its log.
  ok(root.run('rm /etc/pam.d/smtp /etc/init.d/pam-mapi-worker /var/log/pam-mapi-worker.log'));
  expect(root.run('dpkg -P pam-mapi </dev/null').status).toBe(0);
  expect(root.run('getent passwd pam-mapi || getent group pam-mapi').stdout).toBe('');
  const after = root.changes();
  const left: string[] = [];
  for (const [p, line] of after) if (beforePackage.get(p) !== line) left.push(line);
  for (const [p, line] of beforePackage) if (!after.has(p)) left.push(`gone: ${line}`);
  // dpkg's own records and log, man-db's index, and the shadow tools' backups of the files they
  // edited (/etc/passwd- and the like hold the state before the last edit) are the system's;
  // the account files themselves are compared below.
  const systems = /^(file|dir) (\/var\/log\/dpkg\.log|\/var\/lib\/dpkg\/(status|status-old|available|triggers\/\S*)|\/var\/cache\/man\/index\.db|\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?|\/var\/cache\/debconf\/\S+) /;
  expect(left.filter((l) => !systems.test(l))).toEqual([]);
  expect(ok(root.run(ACCOUNTS))).toBe(accountsBefore);
  expect(root.run('ls -d /etc/pam_mapi.conf /etc/pam_mapi /var/lib/pam_mapi /run/pam_mapi 2>/dev/null').stdout).toBe('');
});
