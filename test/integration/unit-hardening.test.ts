// What npm run install:system sets up for an unprivileged worker (finding 9 of issue 12): the
// pam-mapi system user and group, the config readable by that group alone, the kopano group for
// server.cfg; and the shipped service unit's exposure as systemd-analyze rates it.
// Installs run under a private copy of /etc, so the host's accounts are never touched.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { WORKER_USER } from '../../src/protocol/constants';
import { REPO_ROOT } from '../../src/sandbox/sandbox';
import { withPrivateEtc } from '../helpers/unprivileged';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-unpriv-install-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs install-system.sh for real (no DESTDIR) into `root`, with /etc private: `prepare` runs
 * first, `report` after; returns what they print. */
function install(prepare: string, report: string): string {
  const script = `${prepare}\nbash ${REPO_ROOT}/scripts/install-system.sh >/dev/null\n${report}`;
  const cmd = withPrivateEtc('');
  return execFileSync(cmd[0], [...cmd.slice(1), 'bash', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, DESTDIR: '', PREFIX: `${root}/usr`, PAM_MODULE_DIR: `${root}/security`, SYSTEMD_UNIT_DIR: `${root}/units`, PAM_MAPI_ROOT: root },
  });
}

test('the name is pam-mapi, for user and group', () => {
  expect(WORKER_USER).toBe('pam-mapi');
});

test('install creates the system user and group (no shell, no home), gives it the config root:pam-mapi 0640 and the kopano group', () => {
  const out = install(
    'groupadd --system kopano',
    'getent passwd pam-mapi; getent group pam-mapi | cut -d: -f1; id -nG pam-mapi; stat -c "%U:%G %a" /etc/pam_mapi.conf; ls -d /nonexistent 2>&1 | grep -c "No such"',
  ).trim().split('\n');
  const [name, , uid, gid, , home, shell] = out[0].split(':');
  expect(name).toBe('pam-mapi');
  expect(Number(uid)).toBeLessThan(1000); // a system account
  expect(Number(uid)).toBeGreaterThan(0);
  expect(Number(gid)).toBeGreaterThan(0);
  expect(home).toBe('/nonexistent');
  expect(shell).toMatch(/\/nologin$/);
  expect(out[1]).toBe('pam-mapi');
  expect(out[2].split(' ').sort()).toEqual(['kopano', 'pam-mapi']);
  expect(out[3]).toBe('root:pam-mapi 640');
  expect(out[4]).toBe('1'); // no home was made
});

test('a second install, and a config left by a root worker (root:root 0600), end the same way', () => {
  const out = install(
    'bash -c "useradd --system --no-create-home --shell /usr/sbin/nologin --user-group pam-mapi"; printf "[store]\\ntype = file\\n" > /etc/pam_mapi.conf; chmod 600 /etc/pam_mapi.conf',
    'getent passwd pam-mapi | wc -l; stat -c "%U:%G %a" /etc/pam_mapi.conf; cat /etc/pam_mapi.conf',
  ).trim().split('\n');
  expect(out).toEqual(['1', 'root:pam-mapi 640', '[store]', 'type = file']);
});

test('systemd-analyze security rates the shipped service unit 2.0 or lower', () => {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-unit-'));
  try {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/install-system.sh')], { env: { ...process.env, DESTDIR: stage, PREFIX: '/usr' } });
    // The worker's own addon is installed with it, and loads from the installed tree.
    const peer = path.join(stage, 'usr/lib/pam_mapi/dist/src/worker/peer.js');
    expect(execFileSync(process.execPath, ['-e', `console.log(typeof require(${JSON.stringify(peer)}).peerCredentials)`], { encoding: 'utf8' })).toBe('function\n');
    const unit = path.join(stage, 'usr/lib/systemd/system/pam-mapi-worker.service');
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    const score = /Overall exposure level for pam-mapi-worker\.service: ([0-9.]+)/.exec(r.stdout);
    expect(score).not.toBeNull();
    expect(Number(score?.[1])).toBeLessThanOrEqual(2.0);
    // And the settings the score alone would not insist on.
    const text = fs.readFileSync(unit, 'utf8');
    for (const line of ['User=pam-mapi', 'Group=pam-mapi', 'LimitCORE=0', 'SystemCallFilter=@system-service', 'ProtectProc=invisible', 'ProcSubset=pid']) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).toMatch(/^MemoryMax=\S+$/m);
    expect(text).toMatch(/^TasksMax=\d+$/m);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
});
