// pam-mapi doctor on a test root standing in for / (etc/pam_mapi.conf, etc/pam.d, the PAM
// module directory, var/lib/pam_mapi), with a real worker and a private MariaDB.
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { MODULE_PATH, REPO_ROOT, Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const PAM_UNIX = ['/lib/x86_64-linux-gnu/security/pam_unix.so', '/usr/lib/x86_64-linux-gnu/security/pam_unix.so'].find((p) => fs.existsSync(p)) ?? '';
let db: PrivateMariaDB;
let box: Sandbox;
let worker: WorkerProcess;
let root: string;
let confText: string;

interface Report { checks: Array<{ check: string; status: string; detail: string; fix?: string }>; summary: { ok: number; warn: number; fail: number }; exit: number }

function doctor(...args: string[]): { code: number | null; out: string; report?: Report } {
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--root', root, ...args], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  return { code: r.status, out, report: args.includes('--json') ? (JSON.parse(r.stdout) as Report) : undefined };
}
const rowsOf = (rep: Report | undefined, status: string): string[] => (rep?.checks ?? []).filter((c) => c.status === status).map((c) => `${c.check}: ${c.detail}`);
const stanza = (name: string): string => fs.readFileSync(path.join(REPO_ROOT, 'pam.d-examples', name), 'utf8');

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await createKopanoDatabase(db, 'kopano');
  await insertKopanoUser(db, 'kopano', { login: 'alice', password: 'wonderland' });
  await db.createReader('kopano', 'pw', 'kopano');
  box = Sandbox.create();
  root = path.join(box.dir, 'root');
  confText = `[worker]\nsocket = ${box.socketPath}\n\n[store]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\n`;
  fs.mkdirSync(path.join(root, 'etc/pam.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/pam_mapi.conf'), confText, { mode: 0o600 });
  const moduleDir = path.join(root, path.dirname(PAM_UNIX));
  fs.mkdirSync(moduleDir, { recursive: true });
  fs.copyFileSync(PAM_UNIX, path.join(moduleDir, 'pam_unix.so'));
  fs.copyFileSync(MODULE_PATH, path.join(moduleDir, 'pam_mapi.so'));
  fs.writeFileSync(path.join(root, 'etc/pam.d/smtp'), stanza('smtp'));
  fs.writeFileSync(path.join(root, 'etc/pam.d/imap'), stanza('imap'));
  fs.writeFileSync(path.join(root, 'etc/pam.d/sshd'), 'auth required pam_unix.so\n');
  worker = await box.startWorker(path.join(root, 'etc/pam_mapi.conf'));
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
});

test('a good setup: every check OK after the baseline is saved, exit 0', () => {
  expect(doctor('--save-baseline').out).toBe('baseline saved: imap, smtp\n');
  const r = doctor();
  expect(r.out).toMatch(/^CHECK +STATUS +DETAIL\n/);
  expect(r.out).toMatch(/worker +OK +answers on .* in [0-9.]+ ms \(probe user: USER_UNKNOWN\)/);
  expect(r.out).toMatch(/store default \(zarafa\) +OK +answered a lookup in [0-9.]+ ms/);
  expect(r.out).toMatch(/module +OK +.*pam_mapi.so loads and exports the PAM entry points/);
  expect(r.out).toMatch(/pam.d\/smtp:16 +OK +auth required pam_mapi.so try_first_pass/);
  expect(r.out).toMatch(/\n\d+ OK, 0 WARN, 0 FAIL\n$/);
  expect(r.code).toBe(0);
  const j = doctor('--json');
  expect(j.report?.summary.fail).toBe(0);
  expect(j.report?.exit).toBe(0);
  expect(j.code).toBe(0);
});

test('a deleted smtp stanza: FAIL naming it; --restore brings it back byte for byte', () => {
  const file = path.join(root, 'etc/pam.d/smtp');
  const before = fs.readFileSync(file);
  fs.rmSync(file);
  const r = doctor('--json');
  expect(rowsOf(r.report, 'FAIL')).toEqual([expect.stringMatching(/^pam.d\/smtp: .*smtp is gone .*logins for smtp no longer reach pam_mapi/)]);
  expect(r.report?.checks.find((c) => c.check === 'pam.d/smtp')?.fix).toBe('pam-mapi doctor --restore smtp');
  expect(r.code).toBe(1);
  expect(doctor('--restore', 'smtp').out).toMatch(/^restored .*etc\/pam.d\/smtp\n$/);
  expect(fs.readFileSync(file).equals(before)).toBe(true);
  expect(doctor().code).toBe(0);
});

test('a stanza that no longer uses pam_mapi: FAIL; --restore keeps the replaced file beside it', () => {
  const file = path.join(root, 'etc/pam.d/imap');
  const original = fs.readFileSync(file);
  fs.writeFileSync(file, '# replaced by a distribution upgrade\nauth required pam_unix.so\n');
  expect(rowsOf(doctor('--json').report, 'FAIL')).toEqual([expect.stringMatching(/^pam.d\/imap: .* no longer uses pam_mapi/)]);
  const out = doctor('--restore', 'imap').out;
  const kept = /kept as (\S+)\)/.exec(out)?.[1] ?? '';
  expect(fs.readFileSync(kept, 'utf8')).toContain('replaced by a distribution upgrade');
  expect(fs.readFileSync(file).equals(original)).toBe(true);
  fs.rmSync(kept);
});

test('the worker names a recorded stanza that is gone when it starts', async () => {
  fs.renameSync(path.join(root, 'etc/pam.d/smtp'), path.join(box.dir, 'smtp.away'));
  try {
    const box2 = Sandbox.create();
    try {
      const conf = box2.writeConfig(`[store]\npath = ${box2.writeUsers([])}\n`);
      const child = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/src/worker/main.js'), '--config', conf], { env: { ...process.env, PAM_MAPI_ROOT: root }, timeout: 1500, encoding: 'utf8' });
      expect(child.stderr).toMatch(/warning pamd.stanza_gone service=smtp .*fix="pam-mapi doctor --restore smtp"/);
    } finally {
      await box2.cleanup();
    }
  } finally {
    fs.renameSync(path.join(box.dir, 'smtp.away'), path.join(root, 'etc/pam.d/smtp'));
  }
});

test('a world-readable config holding a password: FAIL with the chmod that fixes it', () => {
  const conf = path.join(root, 'etc/pam_mapi.conf');
  fs.chmodSync(conf, 0o644);
  try {
    const r = doctor('--json');
    const row = r.report?.checks.find((c) => c.check === 'config');
    expect(row?.status).toBe('FAIL');
    expect(row?.detail).toMatch(/holds a password and is readable by group or others \(mode 0644\)/);
    expect(row?.fix).toBe(`chmod 600 ${conf}`);
    expect(r.code).toBe(1);
  } finally {
    fs.chmodSync(conf, 0o600);
  }
});

test('worker down: FAIL; database down: FAIL with the store\'s error', async () => {
  await db.stop();
  try {
    const r = doctor('--json');
    const fails = rowsOf(r.report, 'FAIL');
    expect(fails).toContainEqual(expect.stringMatching(/^store default \(zarafa\): no database host answered .*mysqld.sock/));
    expect(fails).toContainEqual(expect.stringMatching(/^worker: the worker answers but cannot decide: AUTHINFO_UNAVAIL/));
  } finally {
    await db.launch();
  }
  await worker.stop();
  try {
    const r = doctor('--json');
    expect(rowsOf(r.report, 'FAIL')).toEqual([expect.stringMatching(/^worker: no socket at .*the worker is not running/)]);
    expect(r.code).toBe(1);
  } finally {
    worker = await box.startWorker(path.join(root, 'etc/pam_mapi.conf'));
  }
}, 30000);

describe('stanzas that are wrong', () => {
  const cases: Array<[string, string, 'WARN' | 'FAIL', RegExp]> = [
    ['unknown', 'auth required pam_mapi.so try_first_pass frobnicate\n', 'WARN', /unknown argument "frobnicate"/],
    ['firstpass', 'auth required pam_mapi.so use_first_pass\n', 'FAIL', /use_first_pass on the first auth module/],
    ['nofeature', 'auth required pam_mapi.so service=imap4\n', 'FAIL', /unknown feature imap4/],
    ['legacy', 'auth required pam_mapi.so socket=file:///var/run/zarafa\n', 'WARN', /points at a Unix socket.*open relay/],
    ['denied', 'auth requisite pam_deny.so\nauth required pam_mapi.so\n', 'FAIL', /pam_deny.so \(requisite\) at line 1 .*can never succeed/],
    ['permitted', 'auth sufficient pam_permit.so\nauth required pam_mapi.so\n', 'FAIL', /pam_permit.so \(sufficient\) at line 1 lets everyone in/],
    ['nostore', 'auth required pam_mapi.so store=nosuch\n', 'FAIL', /store=nosuch: no \[store.nosuch\]/],
  ];
  test.each(cases)('%s: %s', (name, text, status, message) => {
    const file = path.join(root, 'etc/pam.d', name);
    fs.writeFileSync(file, text);
    try {
      const r = doctor('--json');
      const rows = (r.report?.checks ?? []).filter((c) => c.check.startsWith(`pam.d/${name}:`));
      expect(rows).toContainEqual(expect.objectContaining({ status, detail: expect.stringMatching(message) }));
      expect(rows.every((row) => row.status === 'OK' || typeof row.fix === 'string')).toBe(true);
      expect(r.code).toBe(status === 'FAIL' ? 1 : 2);
    } finally {
      fs.rmSync(file);
    }
  });
});

test('a store\'s own warnings reach the table: an LDAP store with tls_verify = no', () => {
  fs.writeFileSync(path.join(root, 'etc/insecure.conf'), `[worker]\nsocket = ${box.socketPath}\nstore_timeout = 1\n[store]\ntype = ldap\nuri = ldaps://127.0.0.1:9\ntls_verify = no\nbase = dc=example,dc=org\n`, { mode: 0o600 });
  const rows = doctor('--json', '--config', '/etc/insecure.conf').report?.checks.filter((c) => c.check === 'store default (ldap)') ?? [];
  expect(rows).toContainEqual(expect.objectContaining({ status: 'WARN', detail: expect.stringMatching(/tls_verify = no: any server can pretend to be the directory/) }));
  expect(rows).toContainEqual(expect.objectContaining({ status: 'FAIL' }));
});

test('the module missing from the PAM directory: FAIL', () => {
  const mod = path.join(root, path.dirname(PAM_UNIX), 'pam_mapi.so');
  fs.renameSync(mod, `${mod}.away`);
  try {
    expect(rowsOf(doctor('--json').report, 'FAIL')).toEqual([expect.stringMatching(/^module: .*pam_mapi.so is missing/)]);
  } finally {
    fs.renameSync(`${mod}.away`, mod);
  }
});
