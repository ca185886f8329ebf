// The accounting log ([worker] accounting_log) through real libpam, the built module and a
// worker: one JSON line per decision with its fields and never a password, and the log going
// on after logrotate's two ways of rotating (rename + SIGHUP, and copytruncate).
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { REPO_ROOT } from '../../src/sandbox/sandbox';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';

let box: Sandbox;
let worker: WorkerProcess;
let log: string;

const lines = (file = log): Record<string, unknown>[] => {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
};

async function waitForLines(n: number, file = log): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100 && lines(file).length < n; i++) await new Promise((r) => setTimeout(r, 20));
  return lines(file);
}

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland-7' }, { login: 'bob', password: 'builder-77', enabled: ['imap'] }]);
  log = path.join(box.dir, 'accounting.log');
  worker = await box.startWorker(box.writeConfig(`[throttle]\nrefuse_after = 3\n\n[store]\ntype = file\npath = ${box.dir}/users\n`, `accounting_log = ${log}\n`));
  box.service('mail', ['auth required {module} ' + box.workerArg, 'account required {module} ' + box.workerArg]);
  box.service('imap', ['auth required {module} service=imap ' + box.workerArg, 'account required {module} service=imap ' + box.workerArg]);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
});

test('one line per decision: time, service, user, client, store, class, PAM code, latency, throttled; never a password or its length', async () => {
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { account: true, rhost: '192.0.2.1' });
  await pamRun(box, 'mail', 'alice', ['not-her-password'], { rhost: '192.0.2.1' });
  await pamRun(box, 'mail', 'nobody', ['whatever-pass'], { rhost: '192.0.2.1' });
  await pamRun(box, 'imap', 'alice', ['wonderland-7'], { rhost: '192.0.2.1' });
  await pamRun(box, 'mail', 'al"ice\\\n', ['x-password'], { rhost: '192.0.2.1' });
  const got = await waitForLines(6);
  expect(got).toHaveLength(6);
  expect(got.map((l) => [l.op, l.service, l.user, l.rhost, l.store, l.class, l.pam, l.throttled])).toEqual([
    ['authenticate', 'mail', 'alice', '192.0.2.1', 'default', 'success', 'PAM_SUCCESS', false],
    ['account', 'mail', 'alice', '192.0.2.1', 'default', 'success', 'PAM_SUCCESS', false],
    ['authenticate', 'mail', 'alice', '192.0.2.1', 'default', 'credentials', 'PAM_AUTH_ERR', false],
    ['authenticate', 'mail', 'nobody', '192.0.2.1', 'default', 'account', 'PAM_USER_UNKNOWN', false],
    ['authenticate', 'imap', 'alice', '192.0.2.1', 'default', 'disabled', 'PAM_PERM_DENIED', false],
    // The control character is escaped before JSON sees it: no second line, no raw newline.
    ['authenticate', 'mail', 'al"ice\\x5c\\x0a', '192.0.2.1', 'default', 'account', 'PAM_USER_UNKNOWN', false],
  ]);
  for (const l of got) {
    expect(typeof l.ms).toBe('number');
    expect(Number.isNaN(Date.parse(String(l.time)))).toBe(false);
  }
  const text = fs.readFileSync(log, 'utf8');
  for (const secret of ['wonderland-7', 'not-her-password', 'whatever-pass', 'x-password']) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/"(password|length|len)"/);
});

test('a throttled refusal is a line of class policy with throttled true', async () => {
  for (const p of ['guess-one1', 'guess-two2', 'guess-three3', 'guess-four4']) await pamRun(box, 'mail', 'bob', [p], { rhost: '203.0.113.5' });
  const got = (await waitForLines(10)).slice(6);
  expect(got.map((l) => [l.class, l.pam, l.throttled])).toEqual([
    ['credentials', 'PAM_AUTH_ERR', false], ['credentials', 'PAM_AUTH_ERR', false], ['credentials', 'PAM_AUTH_ERR', false], ['policy', 'PAM_MAXTRIES', true],
  ]);
});

test('rotation: rename + SIGHUP moves the lines to a new file; copytruncate keeps them coming at the start of the emptied file', async () => {
  const before = lines().length;
  const rotated = `${log}.1`;
  fs.renameSync(log, rotated);
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { rhost: '192.0.2.1' });
  // Until the signal the worker still writes to the file it has open (now the rotated one).
  expect((await waitForLines(before + 1, rotated)).length).toBe(before + 1);
  worker.signal('SIGHUP');
  for (let i = 0; i < 100 && !/ reloaded /.test(worker.output); i++) await new Promise((r) => setTimeout(r, 20));
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { rhost: '192.0.2.2' });
  expect((await waitForLines(1)).map((l) => l.rhost)).toEqual(['192.0.2.2']);
  expect(lines(rotated)).toHaveLength(before + 1);

  // copytruncate: copy, then truncate in place; the worker keeps its descriptor.
  fs.copyFileSync(log, `${log}.2`);
  fs.truncateSync(log, 0);
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { rhost: '192.0.2.3' });
  // The worker writes the line after it has answered: wait for it.
  expect((await waitForLines(1)).map((l) => l.rhost)).toEqual(['192.0.2.3']);
  expect(fs.readFileSync(log).includes(0)).toBe(false);
});

test('the shipped logrotate snippet, run by the real logrotate, both as shipped (create + reload) and with copytruncate', async () => {
  const shipped = fs.readFileSync(path.join(REPO_ROOT, 'docs/logrotate/pam-mapi'), 'utf8');
  expect(shipped).toMatch(/^\/var\/log\/pam_mapi\/accounting\.log \{$/m);
  expect(shipped).toMatch(/systemctl reload pam-mapi-worker\.service/);
  // Only what this machine must change: the path, the owner (the test runs as root), and the
  // reload (no systemd here: the same SIGHUP, sent straight to the worker).
  const adapt = (text: string): string => text.replace('/var/log/pam_mapi/accounting.log', log).replace(/^\s*su .*$/m, '\tsu root root')
    .replace(/create 0640 pam-mapi pam-mapi/, 'create 0600 root root').replace(/systemctl reload pam-mapi-worker\.service/, `kill -HUP ${worker.child.pid}`)
    .replace(/^\s*daily$/m, '\tdaily\n\tnodateext');
  const conf = path.join(box.dir, 'logrotate.conf');
  const state = path.join(box.dir, 'logrotate.state');
  for (const f of fs.readdirSync(box.dir).filter((f) => f.startsWith('accounting.log.'))) fs.rmSync(path.join(box.dir, f));

  fs.writeFileSync(conf, adapt(shipped));
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { rhost: '192.0.2.10' });
  for (let i = 0; i < 100 && !lines().some((l) => l.rhost === '192.0.2.10'); i++) await new Promise((r) => setTimeout(r, 20));
  execFileSync('logrotate', ['-f', '-s', state, conf]);
  for (let i = 0; i < 100 && !/ reloaded .*\n(.|\n)* reloaded /.test(worker.output); i++) await new Promise((r) => setTimeout(r, 20));
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { rhost: '192.0.2.11' });
  expect((await waitForLines(1)).map((l) => l.rhost)).toEqual(['192.0.2.11']);
  expect(lines(`${log}.1`).map((l) => l.rhost).slice(-1)).toEqual(['192.0.2.10']);

  fs.writeFileSync(conf, adapt(shipped).replace(/\tcreate .*\n/, '\tcopytruncate\n').replace(/\tpostrotate\n[^]*?endscript\n/, ''));
  fs.rmSync(`${log}.1`);
  execFileSync('logrotate', ['-f', '-s', state, conf]);
  await pamRun(box, 'mail', 'alice', ['wonderland-7'], { rhost: '192.0.2.12' });
  expect((await waitForLines(1)).map((l) => l.rhost)).toEqual(['192.0.2.12']);
  expect(fs.readFileSync(log).includes(0)).toBe(false);
  expect(lines(`${log}.1`).map((l) => l.rhost)).toEqual(['192.0.2.11']);
});

test('a log that cannot be opened is reported in the worker log, and logins go on', async () => {
  const other = Sandbox.create();
  try {
    other.writeUsers([{ login: 'alice', password: 'wonderland-7' }]);
    const w = await other.startWorker(other.writeConfig(`[store]\ntype = file\npath = ${other.dir}/users\n`, `accounting_log = ${other.dir}/no-such-dir/accounting.log\n`));
    other.service('mail', ['auth required {module} ' + other.workerArg]);
    expect((await pamRun(other, 'mail', 'alice', ['wonderland-7'])).auth).toBe('PAM_SUCCESS');
    expect(w.output).toMatch(/ accounting\.failed file=\S+no-such-dir\/accounting\.log message=/);
  } finally {
    await other.cleanup();
  }
});
