// The baseline remembers (issue 13, finding 3): the seed's story end to end on a test root,
// with the real scripts/install-system.sh saving the baseline as an install and an upgrade do.
// Baseline, install, delete smtp and imap, install again, the doctor FAILs both, --restore
// brings them back byte for byte.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { REPO_ROOT } from '../../src/sandbox/sandbox';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
interface Report { checks: Array<{ check: string; status: string; detail: string; fix?: string }>; exit: number }

let root: string;
const pamd = (name: string): string => path.join(root, 'etc/pam.d', name);
const example = (name: string): Buffer => fs.readFileSync(path.join(REPO_ROOT, 'pam.d-examples', name));

function doctor(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--root', root, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** The pam.d rows of the doctor's report that are not OK, as "STATUS check: detail". */
function pamProblems(): string[] {
  const rep = JSON.parse(doctor('--json').out) as Report;
  return rep.checks.filter((c) => c.check.startsWith('pam.d') && c.status !== 'OK').map((c) => `${c.status} ${c.check}: ${c.detail}`);
}
/** npm run install:system as a real install does it (it saves the baseline), into the test root. */
function install(): string {
  return execFileSync('bash', [path.join(REPO_ROOT, 'scripts/install-system.sh')], {
    env: { ...process.env, DESTDIR: '', PREFIX: `${root}/usr`, PAM_MODULE_DIR: `${root}/security`, SYSTEMD_UNIT_DIR: `${root}/units`, SYSCONFDIR: `${root}/etc`, PAM_MAPI_ROOT: root },
    encoding: 'utf8',
  });
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-baseline-'));
  fs.mkdirSync(path.join(root, 'etc/pam.d'), { recursive: true });
  fs.writeFileSync(pamd('smtp'), example('smtp'));
  fs.writeFileSync(pamd('imap'), example('imap'));
  fs.writeFileSync(pamd('sshd'), 'auth required pam_unix.so\n');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('the seed\'s story: baseline, install, delete smtp and imap, upgrade, doctor FAIL, restore byte-identical', () => {
  expect(doctor('--save-baseline').out).toBe('baseline saved: imap, smtp\n');
  install();
  expect(pamProblems()).toEqual([]);

  fs.rmSync(pamd('smtp'));
  fs.rmSync(pamd('imap'));
  // The upgrade: the same install again, which saves the baseline again.
  const out = install();
  const problems = pamProblems();
  expect(problems).toEqual([
    expect.stringMatching(/^FAIL pam.d\/imap: .*imap is gone .*logins for imap no longer reach pam_mapi/),
    expect.stringMatching(/^FAIL pam.d\/smtp: .*smtp is gone .*logins for smtp no longer reach pam_mapi/),
  ]);
  expect(doctor().code).toBe(1);
  expect(out).toMatch(/kept the recorded imap, which is gone or changed/);
  expect(out).toMatch(/kept the recorded smtp, which is gone or changed/);

  expect(doctor('--restore', 'smtp').out).toMatch(/^restored .*etc\/pam.d\/smtp\n$/);
  expect(doctor('--restore', 'imap').out).toMatch(/^restored .*etc\/pam.d\/imap\n$/);
  expect(fs.readFileSync(pamd('smtp')).equals(example('smtp'))).toBe(true);
  expect(fs.readFileSync(pamd('imap')).equals(example('imap'))).toBe(true);
  expect(pamProblems()).toEqual([]);
}, 180000);

test('a stanza that uses the module but is not in the baseline: WARN, until a save records it', () => {
  fs.writeFileSync(pamd('pop3'), example('pop3'));
  expect(pamProblems()).toEqual([expect.stringMatching(/^WARN pam.d\/pop3: .*pop3 uses pam_mapi but is not in the baseline/)]);
  expect(doctor('--save-baseline').out).toBe('baseline saved: imap, pop3, smtp\nrecorded now: pop3\n');
  expect(pamProblems()).toEqual([]);
});

test('a change made on purpose is taken with --save-baseline SERVICE; a plain save keeps the recorded file', () => {
  const edited = Buffer.concat([example('imap'), Buffer.from('# reviewed\n')]);
  fs.writeFileSync(pamd('imap'), edited);
  expect(doctor('--save-baseline').out).toMatch(/kept the recorded imap/);
  expect(pamProblems()).toEqual([expect.stringMatching(/^WARN pam.d\/imap: .* changed since the baseline/)]);
  expect(doctor('--save-baseline', 'imap').out).toBe('baseline saved: imap, pop3, smtp\nrecorded now: imap\n');
  expect(pamProblems()).toEqual([]);
  // A service whose file does not use the module cannot be recorded.
  const r = doctor('--save-baseline', 'sshd');
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/sshd does not use pam_mapi: nothing to record/);
});

test('a stanza removed on purpose is forgotten with --forget, and only then', () => {
  fs.rmSync(pamd('pop3'));
  doctor('--save-baseline');
  expect(pamProblems()).toEqual([expect.stringMatching(/^FAIL pam.d\/pop3: .*is gone.*pam-mapi doctor --forget pop3/)]);
  expect(doctor('--forget', 'pop3').out).toMatch(/^forgot pop3: the doctor no longer expects .*pop3 to use pam_mapi\n$/);
  expect(pamProblems()).toEqual([]);
  expect(doctor('--restore', 'pop3').code).toBe(1);
  const again = doctor('--forget', 'pop3');
  expect(again.code).toBe(1);
  expect(again.err).toMatch(/no recorded stanza for "pop3"/);
  expect(doctor('--forget', '../etc/passwd').code).toBe(2);
});

test('a baseline that cannot be read is never replaced', () => {
  const file = path.join(root, 'var/lib/pam_mapi/pam.d-baseline.json');
  const good = fs.readFileSync(file);
  fs.writeFileSync(file, '{ truncated');
  try {
    const r = doctor('--save-baseline');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*pam.d-baseline.json: move it away/);
    expect(fs.readFileSync(file, 'utf8')).toBe('{ truncated');
  } finally {
    fs.writeFileSync(file, good);
  }
});
