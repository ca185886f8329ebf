// Typos fail closed (issue 13, findings 1 and 2): a misspelled argument that carries a value
// refuses its line, a misspelled feature in the config refuses the config, and the doctor FAILs
// both with the fix it most likely means. Real libpam, the built module, a real worker.
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
interface Report { checks: Array<{ check: string; status: string; detail: string; fix?: string }> }

let box: Sandbox;
beforeEach(() => {
  box = Sandbox.create();
  // alice has no feature of her own; the store disables imap and pop3 by default.
  box.writeUsers([{ login: 'alice', password: 'wonderland' }, { login: 'bob', password: 'builder', enabled: ['imap'] }]);
});
afterEach(async () => { await box.cleanup(); });

/** The doctor on a test root holding this sandbox's config and pam.d. */
function doctorOn(config: string): Report {
  const root = path.join(box.dir, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.cpSync(box.pamDir, path.join(root, 'etc/pam.d'), { recursive: true });
  fs.copyFileSync(config, path.join(root, 'etc/pam_mapi.conf'));
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--json', '--root', root], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as Report;
}

test('finding 1: "sevice=imap" refuses the line (PAM_AUTHINFO_UNAVAIL), says "did you mean service=?" at LOG_ERR; the doctor FAILs it with that fix', async () => {
  const config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\ndisabled_features = imap pop3\n`);
  box.service('imap', [`auth required {module} try_first_pass sevice=imap ${box.workerArg}`]);
  await box.startWorker(config);
  const mark = syslogMark();
  // alice has no imap: the restriction the admin meant must not silently vanish.
  expect((await pamRun(box, 'imap', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
  expect((await pamRun(box, 'imap', 'bob', ['builder'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
  const all = await syslogSince(mark, 0);
  const line = all.find((l) => l.includes('pam_mapi(imap:auth)') && l.includes('sevice=imap'));
  expect(line).toMatch(/^<83>/); // authpriv.err
  expect(line).toMatch(/unknown argument "sevice=imap" \(did you mean service=\?\)/);

  const row = doctorOn(config).checks.find((c) => c.check === 'pam.d/imap:1');
  expect(row?.status).toBe('FAIL');
  expect(row?.detail).toMatch(/did you mean service=\?/);
  expect(row?.fix).toMatch(/did you mean service=imap\? write "service=imap" instead of "sevice=imap"/);
  expect(row?.fix).not.toMatch(/remove/);
});

test('an unknown bare word is still logged and ignored, with a hint; worker_user= is known', async () => {
  const config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\n`);
  box.service('smtp', [`auth required {module} use_frist_pass worker_user=pam-mapi ${box.workerArg}`]);
  await box.startWorker(config);
  const mark = syslogMark();
  expect((await pamRun(box, 'smtp', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
  expect(moduleLines(await syslogSince(mark), 'unknown option')).toEqual(['pam_mapi(smtp:auth): unknown option ignored: use_frist_pass (did you mean use_first_pass?)']);
  const row = doctorOn(config).checks.find((c) => c.check === 'pam.d/smtp:1');
  expect(row?.status).toBe('WARN');
  expect(row?.fix).toMatch(/write "use_first_pass" instead of "use_frist_pass"/);
});

test('finding 2: "disabled_features = imap pop4" is a config error naming pop4 (did you mean pop3?); the worker refuses it and the doctor FAILs it', async () => {
  const config = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\ndisabled_features = imap pop4\n`);
  box.service('pop3', [`auth required {module} service=pop3 ${box.workerArg}`]);
  await expect(box.startWorker(config)).rejects.toThrow(/\[store\] disabled_features: unknown feature \\?"pop4\\?" \(did you mean pop3\?\)/);
  const row = doctorOn(config).checks.find((c) => c.check === 'config');
  expect(row?.status).toBe('FAIL');
  expect(row?.detail).toMatch(/unknown feature "pop4" \(did you mean pop3\?\)/);
  expect(row?.fix).toMatch(/\[store\] disabled_features = imap pop3$/);
});

test('a typo in a named store section and in Kopano\'s server.cfg is refused too', async () => {
  const cfg = box.file('server.cfg', 'user_plugin = db\ndisabled_features = imap pop3 mobil\n', 0o644);
  const ldapLike = box.writeConfig(`[store]\ntype = file\npath = ${box.dir}/users\n\n[store.local]\ntype = file\npath = ${box.dir}/users\ndisabled_features = IMAP webap\n`);
  await expect(box.startWorker(ldapLike)).rejects.toThrow(/\[store\.local\] disabled_features: unknown feature \\?"webap\\?" \(did you mean webapp\?\)/);
  const zarafa = box.writeConfig(`[store]\ntype = zarafa\nserver_cfg = ${cfg}\nsocket = ${box.dir}/no-such.sock\n`);
  const row = doctorOn(zarafa).checks.find((c) => c.check === 'config');
  expect(row?.status).toBe('FAIL');
  expect(row?.detail).toMatch(/server.cfg: disabled_features: unknown feature "mobil" \(did you mean mobile\?\)/);
  expect(row?.fix).toMatch(/disabled_features = imap pop3 mobile$/);
});
