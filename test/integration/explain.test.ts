// pam-mapi explain against a real configuration and store: each step with its time, the
// policy's own outcome (decide() with debug), the throttle's rules for the address, and with
// --password a real password check whose password is never printed.
import { spawnSync } from 'child_process';
import path from 'path';
import { REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
let box: Sandbox;
let config: string;

function explain(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'explain', ...args, '--config', config], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  box = Sandbox.create();
  box.writeUsers([
    { login: 'alice', password: 'wonderland-7', enabled: ['imap'] },
    { login: 'dave', password: 'locked-out-7', locked: true },
  ]);
  config = box.writeConfig(`[throttle]\ntrusted_networks = 10.0.0.0/8\ndeny = 192.0.2.66\n\n[store]\ntype = file\npath = ${box.dir}/users\n`);
});

afterAll(async () => {
  await box?.cleanup();
});

test('without a password: the account rules and features, step by step with times', () => {
  const ok = explain(['alice', '--service', 'imap', '--rhost', '10.1.2.3']);
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/^config \S+: read \([0-9.]+ ms\); stores: default$/m);
  expect(ok.stdout).toMatch(/^throttle: on; 10\.1\.2\.3 is in trusted_networks: never counted, delayed or refused;/m);
  expect(ok.stdout).toMatch(/^store file: lookup: found alice, account active, features on: imap, off: - \([0-9.]+ ms\)$/m);
  expect(ok.stdout).toMatch(/^outcome: PAM_SUCCESS \(accepted; store default; [0-9.]+ ms in the policy, [0-9.]+ ms in all\)$/m);

  const pop = explain(['alice', '--service', 'pop3']);
  expect(pop.status).toBe(1);
  expect(pop.stdout).toMatch(/^throttle: on; no client address: counted per name and per name-and-address only;/m);
  expect(pop.stdout).toMatch(/^outcome: PAM_PERM_DENIED \(none of the features pop3 is enabled;/m);
  expect(explain(['dave']).stdout).toMatch(/^outcome: PAM_PERM_DENIED \(account is not active;/m);
  expect(explain(['nobody']).stdout).toMatch(/^store file: lookup: not found/m);
  expect(explain(['alice', '--rhost', '192.0.2.66']).stdout).toMatch(/^throttle: on; 192\.0\.2\.66 is on the deny list: refused \(PAM_MAXTRIES\)/m);
});

test('with --password: the real password check; the password is never printed, nor its length', () => {
  const right = explain(['alice', '--password', '--rhost', '198.51.100.4'], 'wonderland-7\n');
  expect(right.status).toBe(0);
  expect(right.stdout).toMatch(/^store file: password check: found alice, password right, account active \([0-9.]+ ms\)$/m);
  expect(right.stdout).toMatch(/^outcome: PAM_SUCCESS/m);
  const wrong = explain(['alice', '--password'], 'not-the-password\n');
  expect(wrong.status).toBe(1);
  expect(wrong.stdout).toMatch(/^store file: password check: found alice, password wrong/m);
  expect(wrong.stdout).toMatch(/^outcome: PAM_AUTH_ERR \(wrong password;/m);
  for (const out of [right.stdout + right.stderr, wrong.stdout + wrong.stderr]) {
    expect(out).not.toMatch(/wonderland-7|not-the-password|length/);
    // Nor the lengths (12 and 16 bytes) as numbers, timings aside.
    expect(out.replace(/[0-9.]+ ms/g, '')).not.toMatch(/\b12\b|\b16\b/);
  }
});

test('usage errors exit 2', () => {
  expect(explain([]).status).toBe(2);
  expect(explain(['alice', '--bogus']).status).toBe(2);
});
