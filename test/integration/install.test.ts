// npm run install:system / uninstall:system into a staging root (DESTDIR), as a packager would.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { REPO_ROOT } from '../../src/sandbox/sandbox';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';
import { withPrivateEtc } from '../helpers/unprivileged';

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-stage-'));
const env = { ...process.env, DESTDIR: stage, PREFIX: '/usr' };
const sh = (script: string, extra: Record<string, string> = {}): string =>
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts', script)], { env: { ...env, ...extra }, encoding: 'utf8' });
const mode = (p: string): number => fs.statSync(path.join(stage, p)).mode & 0o777;
// Where this system keeps its PAM modules, found the way the installer finds it.
const pamDir = ['/usr/lib/x86_64-linux-gnu/security', '/lib/x86_64-linux-gnu/security', '/usr/lib64/security'].find((d) => fs.existsSync(path.join(d, 'pam_unix.so')));

afterAll(() => fs.rmSync(stage, { recursive: true, force: true }));

test('the staged layout: module, worker, CLI, config, man pages, units', () => {
  fs.mkdirSync(path.join(stage, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(stage, 'etc/unrelated'), 'keep me');
  sh('install-system.sh');
  expect(pamDir).toBeDefined();
  expect(mode(`${pamDir}/pam_mapi.so`)).toBe(0o644);
  expect(fs.readlinkSync(path.join(stage, 'usr/sbin/pam-mapi-worker'))).toBe('../lib/pam_mapi/dist/src/worker/main.js');
  expect(fs.readlinkSync(path.join(stage, 'usr/bin/pam-mapi'))).toBe('../lib/pam_mapi/dist/src/cli/main.js');
  expect(mode('usr/lib/pam_mapi/dist/src/worker/main.js')).toBe(0o755);
  expect(mode('etc/pam_mapi.conf')).toBe(0o600);
  for (const page of ['man8/pam_mapi.8']) expect(fs.existsSync(path.join(stage, 'usr/share/man', page))).toBe(true);
  const service = fs.readFileSync(path.join(stage, 'usr/lib/systemd/system/pam-mapi-worker.service'), 'utf8');
  expect(service).toContain(`ExecStart=${process.execPath} ${WORKER_NODE_FLAGS.join(' ')} /usr/lib/pam_mapi/dist/src/worker/main.js --config /etc/pam_mapi.conf`);
  expect(fs.readFileSync(path.join(stage, 'usr/lib/systemd/system/pam-mapi-worker.socket'), 'utf8')).toContain('ListenStream=/run/pam_mapi/worker.sock');
  // Production only: nothing of the tests, the demo or the sandboxes.
  for (const p of ['dist/src/sandbox', 'dist/src/demo', 'dist/test', 'node_modules/node-addon-api', 'node_modules/@types']) {
    expect(fs.existsSync(path.join(stage, 'usr/lib/pam_mapi', p))).toBe(false);
  }
  // The staged programs run from the staged tree with only the production dependencies.
  const hash = spawnSync(process.execPath, [path.join(stage, 'usr/lib/pam_mapi/dist/src/cli/main.js'), 'hash'], { input: 'pw\n', encoding: 'utf8' });
  expect(hash.stdout).toMatch(/^[0-9a-f]{40}\n$/);
  expect(fs.existsSync(path.join(stage, 'usr/lib/pam_mapi/node_modules/jest'))).toBe(false);
  expect(fs.existsSync(path.join(stage, 'usr/lib/pam_mapi/node_modules/mysql2'))).toBe(true);
});

test('an existing config is never overwritten', () => {
  fs.writeFileSync(path.join(stage, 'etc/pam_mapi.conf'), '[store]\ntype = file\n');
  expect(sh('install-system.sh')).toContain('keeping the existing');
  expect(fs.readFileSync(path.join(stage, 'etc/pam_mapi.conf'), 'utf8')).toBe('[store]\ntype = file\n');
});

test('uninstall removes what install put there, keeps a changed config and everything else', () => {
  sh('uninstall-system.sh');
  expect(fs.existsSync(path.join(stage, `${pamDir}/pam_mapi.so`))).toBe(false);
  expect(fs.existsSync(path.join(stage, 'usr/lib/pam_mapi'))).toBe(false);
  expect(fs.existsSync(path.join(stage, 'usr/bin/pam-mapi'))).toBe(false);
  expect(fs.existsSync(path.join(stage, 'usr/lib/systemd/system/pam-mapi-worker.service'))).toBe(false);
  expect(fs.existsSync(path.join(stage, 'usr/share/man/man8/pam_mapi.8'))).toBe(false);
  expect(fs.readFileSync(path.join(stage, 'etc/unrelated'), 'utf8')).toBe('keep me');
  expect(fs.existsSync(path.join(stage, 'etc/pam_mapi.conf'))).toBe(true);
});

test('an unchanged sample config goes with the uninstall', () => {
  fs.rmSync(path.join(stage, 'etc/pam_mapi.conf'));
  sh('install-system.sh');
  expect(fs.existsSync(path.join(stage, 'etc/pam_mapi.conf'))).toBe(true);
  sh('uninstall-system.sh');
  expect(fs.existsSync(path.join(stage, 'etc/pam_mapi.conf'))).toBe(false);
});

test('the systemd units pass systemd-analyze verify', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-units-'));
  try {
    // Installed to real paths under a temp prefix, so every path in the units exists; under a
    // private /etc, as the install creates the worker's system user.
    const etc = withPrivateEtc('');
    execFileSync(etc[0], [...etc.slice(1), 'bash', path.join(REPO_ROOT, 'scripts/install-system.sh')], {
      env: { ...process.env, DESTDIR: '', PREFIX: `${root}/usr`, PAM_MODULE_DIR: `${root}/security`, SYSTEMD_UNIT_DIR: `${root}/units`, SYSCONFDIR: `${root}/etc`, PAM_MAPI_ROOT: root },
    });
    // A real install saves the first pam.d baseline (here under the test root).
    expect(fs.existsSync(path.join(root, 'var/lib/pam_mapi/pam.d-baseline.json'))).toBe(true);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', `${root}/units/pam-mapi-worker.socket`, `${root}/units/pam-mapi-worker.service`], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('npm run deb: a package of the same layout under /usr, the config made by the postinst, a postinst that saves the baseline', () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-deb-out-'));
  const deb = execFileSync('bash', [path.join(REPO_ROOT, 'scripts/deb.sh')], { encoding: 'utf8', env: { ...process.env, DEB_OUTDIR: outDir } }).trim().split('\n').pop() ?? '';
  const debPath = path.resolve(REPO_ROOT, deb);
  const contents = execFileSync('dpkg-deb', ['--contents', debPath], { encoding: 'utf8' });
  expect(contents).toMatch(/-rw-r--r-- root\/root .* \.\/usr\/lib\/[a-z0-9_]+-linux-gnu\/security\/pam_mapi\.so\n/);
  expect(contents).not.toMatch(/\.\/etc\/pam_mapi\.conf\n/);
  expect(contents).toMatch(/-rw-r--r-- root\/root .* \.\/usr\/share\/pam-mapi\/pam_mapi\.conf\n/);
  expect(contents).toMatch(/\.\/usr\/sbin\/pam-mapi-worker -> \.\.\/lib\/pam_mapi\/dist\/src\/worker\/main\.js/);
  expect(contents).toMatch(/\.\/usr\/lib\/systemd\/system\/pam-mapi-worker\.socket\n/);
  expect(contents).toMatch(/\.\/usr\/share\/man\/man5\/pam_mapi\.conf\.5\.gz\n/);
  expect(contents).toMatch(/\.\/usr\/share\/doc\/pam-mapi\/copyright\n/);
  expect(contents).toMatch(/\.\/usr\/share\/doc\/pam-mapi\/changelog\.Debian\.gz\n/);
  expect(contents).toMatch(/^drwxr-xr-x root\/root .* \.\/\n/);
  expect(contents).not.toMatch(/installed-files|node_modules\/jest\/| \.\/lib\//);
  expect(execFileSync('dpkg-deb', ['--field', debPath, 'Package', 'Depends'], { encoding: 'utf8' })).toMatch(/^Package: pam-mapi\nDepends: libc6 \(>= [^)]+\), .*libpam0g \(>= [^)]+\), libstdc\+\+6 \(>= [^)]+\), nodejs \(>= 18\.19~\), adduser, init-system-helpers \(>= 1\.54~\)\n$/);
  expect(execFileSync('dpkg-deb', ['--info', debPath], { encoding: 'utf8' })).toMatch(/\bmd5sums\b/);
  expect(execFileSync('dpkg-deb', ['--field', debPath, 'Maintainer'], { encoding: 'utf8' })).not.toMatch(/localhost/);
  // The crypt addon links the system's libcrypt.
  expect(execFileSync('dpkg-deb', ['--field', debPath, 'Depends'], { encoding: 'utf8' })).toMatch(/\blibcrypt1 \(>= [^)]+\)/);
  // The krb5 store's addon links MIT krb5.
  expect(execFileSync('dpkg-deb', ['--field', debPath, 'Depends'], { encoding: 'utf8' })).toMatch(/\blibkrb5-3 \(>= [^)]+\)/);
  expect(execFileSync('dpkg-deb', ['--info', debPath, 'postinst'], { encoding: 'utf8' })).toContain('pam-mapi doctor --save-baseline');
  fs.rmSync(outDir, { recursive: true, force: true });
});
