// The worker's numbers ([worker] metrics_socket) through real libpam, the built module and a
// worker: read by `pam-mapi status --prometheus`, checked by a real Prometheus parser
// (`promtool check metrics`), with the values the transactions made; `pam-mapi status` shows
// them for a person; the socket is the worker's user's alone.
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { parseSamples } from '../../src/cli/status';
import { pamRun } from '../helpers/pam';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
let box: Sandbox;
let config: string;
let socket: string;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland-7' }]);
  socket = path.join(box.dir, 'metrics', 'metrics.sock');
  config = box.writeConfig(`[throttle]\nrefuse_after = 3\n\n[store]\ntype = file\npath = ${box.dir}/users\n\n[store.gone]\ntype = file\npath = ${box.dir}/no-such-users\n`, `metrics_socket = ${socket}\n`);
  box.writeUsers([{ login: 'alice', password: 'wonderland-7' }], 'no-such-users');
  await box.startWorker(config);
  // A store that fails: its users file removed after the start (each lookup is then an error).
  fs.rmSync(path.join(box.dir, 'no-such-users'));
  box.service('mail', ['auth required {module} ' + box.workerArg, 'account required {module} ' + box.workerArg]);
  box.service('gone', ['auth required {module} store=gone ' + box.workerArg]);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
});

test('the numbers pass promtool check metrics and count what happened', async () => {
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { account: true, rhost: '192.0.2.1' });
  await pamRun(box, 'mail', 'alice', ['wrong-one-1'], { rhost: '192.0.2.1' });
  await pamRun(box, 'mail', 'nobody', ['wrong-one-2'], { rhost: '203.0.113.9' });
  for (const p of ['guess-a1', 'guess-b2', 'guess-c3', 'guess-d4']) await pamRun(box, 'mail', 'alice', [p], { rhost: '203.0.113.5' });
  await pamRun(box, 'gone', 'alice', ['wonderland-7'], { rhost: '192.0.2.1' });

  // The worker counts a decision just after it has answered: read until the last one is in.
  let r = cli('status', '--prometheus', '--config', config);
  for (let i = 0; i < 20 && !/^pam_mapi_decisions_total\{op="authenticate",store="gone",class="internal"\} 1$/m.test(r.stdout); i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = cli('status', '--prometheus', '--config', config);
  }
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const check = spawnSync('promtool', ['check', 'metrics'], { input: r.stdout, encoding: 'utf8' });
  expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });

  const value = (name: string, labels: Record<string, string> = {}): number | undefined => parseSamples(r.stdout)
    .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  expect(value('pam_mapi_decisions_total', { op: 'authenticate', store: 'default', class: 'success' })).toBe(1);
  expect(value('pam_mapi_decisions_total', { op: 'account', store: 'default', class: 'success' })).toBe(1);
  expect(value('pam_mapi_decisions_total', { op: 'authenticate', store: 'default', class: 'credentials' })).toBe(4);
  expect(value('pam_mapi_decisions_total', { op: 'authenticate', store: 'default', class: 'account' })).toBe(1);
  expect(value('pam_mapi_decisions_total', { op: 'authenticate', store: 'default', class: 'policy' })).toBe(1);
  expect(value('pam_mapi_decisions_total', { op: 'authenticate', store: 'gone', class: 'internal' })).toBe(1);
  expect(value('pam_mapi_decision_seconds_count', { op: 'authenticate', store: 'default' })).toBe(7);
  expect(value('pam_mapi_store_up', { store: 'default' })).toBe(1);
  expect(value('pam_mapi_store_up', { store: 'gone' })).toBe(0);
  expect(value('pam_mapi_throttle_refused_total')).toBe(1);
  expect(value('pam_mapi_throttle_locked', { table: 'addresses' })).toBe(1);
  expect(value('pam_mapi_throttle_enabled')).toBe(1);
});

test('pam-mapi status prints one screen: decisions by class, latency, stores up or down, the throttle', () => {
  const r = cli('status', '--config', config);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^worker: up \S+ \(since \d{4}-\d\d-\d\dT/);
  expect(r.stdout).toMatch(/^authenticate: 8 \([0-9.]+ per minute since start\): credentials 4, success 1, account 1, policy 1, internal 1$/m);
  expect(r.stdout).toMatch(/^ {2}latency: p50 <= [0-9.]+ ms, p99 <= [0-9.]+ ms$/m);
  expect(r.stdout).toMatch(/^stores: default up, gone DOWN \(its last answer was an error\)$/m);
  // alice's fourth failure (three from 203.0.113.5, one from 192.0.2.1) is past delay_after for her name.
  expect(r.stdout).toMatch(/^throttle: on; refused 1, delayed 1, failures counted 5, repeats not counted 0$/m);
  expect(r.stdout).toMatch(/^ {2}refused now: 1 addresses, 0 names \(from unknown addresses\), 1 names from one address$/m);
});

test('the metrics socket is the worker user\'s alone (mode 0600); without metrics_socket status says so', () => {
  const st = fs.statSync(socket);
  expect(st.isSocket()).toBe(true);
  expect(st.mode & 0o777).toBe(0o600);
  expect(st.uid).toBe(process.getuid?.());
  const other = path.join(box.dir, 'plain.conf');
  fs.writeFileSync(other, `[worker]\nsocket = ${box.dir}/x.sock\n[store]\ntype = file\npath = ${box.dir}/users\n`, { mode: 0o600 });
  const r = cli('status', '--config', other);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/sets no metrics_socket in \[worker\]/);
});
