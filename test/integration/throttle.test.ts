// The cross-service throttle with real clients: IMAP guessing through Dovecot (which sets
// PAM_RHOST) and SMTP AUTH guessing through Postfix and saslauthd (which does not) are slowed,
// then refused with PAM_MAXTRIES without checking the password, while the attacked user still
// logs in from a trusted network and from another address, another user is untouched, and a
// client retrying one old password is never locked out. Small thresholds keep the run short;
// the defaults are in test/unit/throttle.test.ts.
import { execFile } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { promisify } from 'util';
import { MODULE_PATH, Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { freePort } from '../../src/sandbox/ports';
import { PrivateDovecot } from '../helpers/mail/dovecot';
import { removeStalePamWrapperDirs } from '../helpers/mail/daemon';
import { PrivatePostfix } from '../helpers/mail/postfix';
import { Saslauthd } from '../helpers/mail/saslauthd';

const run = promisify(execFile);
const TRUSTED = '127.0.0.200';

let box: Sandbox;
let worker: WorkerProcess;
let saslauthd: Saslauthd;
let postfix: PrivatePostfix;
let dovecot: PrivateDovecot;

/** IMAP LOGIN from a chosen loopback address (Dovecot passes it as PAM_RHOST). */
function imapLogin(user: string, password: string, from: string): Promise<string> {
  recordSecret(password);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port: dovecot.port, host: '127.0.0.1', localAddress: from });
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`IMAP: no answer; got ${JSON.stringify(buf)}`)); }, 30000);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (!sent && buf.includes('* OK')) {
        sent = true;
        sock.write(`a1 LOGIN "${user}" "${password}"\r\n`);
      }
      const line = buf.split('\r\n').find((l) => l.startsWith('a1 '));
      if (line !== undefined) {
        clearTimeout(timer);
        sock.end('a2 LOGOUT\r\n');
        resolve(line);
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

async function swaks(user: string, password: string): Promise<string> {
  recordSecret(password);
  const args = ['--server', `127.0.0.1:${postfix.port}`, '--auth', 'PLAIN', '--auth-user', user, '--auth-password', password,
    '--from', 'a@example.org', '--to', 'b@example.net', '--timeout', '30', '--quit-after', 'AUTH'];
  try {
    return (await run('swaks', args)).stdout;
  } catch (e) {
    return (e as { stdout?: string }).stdout ?? String(e);
  }
}

/** The worker's request lines for a user since a point in its log, as key=value records. */
function requests(since: number, user: string): Record<string, string>[] {
  const mine = new RegExp(`^\\S+ \\S+ request .*\\buser=${user}(\\s|$)`);
  return worker.output.slice(since).split('\n').filter((l) => mine.test(l) && / op=authenticate /.test(l))
    .map((l) => Object.fromEntries([...l.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map((m) => [m[1], m[2]])));
}

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([
    { login: 'alice', password: 'wonderland', enabled: ['imap'] },
    { login: 'bob', password: 'builder', enabled: ['imap'] },
    { login: 'carol', password: 'christmas', enabled: ['imap'] },
    { login: 'dave', password: 'diving', enabled: ['imap'] },
  ]);
  const config = box.writeConfig(`[throttle]\ndelay_after = 2\nmax_delay = 3\nrefuse_after = 4\nuser_refuse_after = 8\ntrusted_networks = ${TRUSTED}/32\n\n[store]\ntype = file\npath = ${box.dir}/users\n`);
  worker = await box.startWorker(config);
  const svc = path.join(box.dir, 'svc');
  fs.mkdirSync(svc);
  fs.writeFileSync(path.join(svc, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  // No nodelay: the throttle's longer fail delay is asked for and libpam applies it.
  for (const s of ['smtp', 'imap']) fs.writeFileSync(path.join(svc, s), `auth required ${MODULE_PATH} ${box.workerArg}\naccount required ${MODULE_PATH} ${box.workerArg}\n`);
  saslauthd = await Saslauthd.start(box.dir, svc);
  postfix = await PrivatePostfix.start(path.join(box.dir, 'postfix'), await freePort(), saslauthd.mux);
  dovecot = await PrivateDovecot.start(path.join(box.dir, 'dovecot'), await freePort(), svc);
}, 120000);

afterAll(async () => {
  await dovecot?.stop();
  await postfix?.stop();
  await saslauthd?.stop();
  await box?.cleanup();
  removeStalePamWrapperDirs();
}, 60000);

test('IMAP: one address guessing alice is slowed, then refused (PAM_MAXTRIES, password not checked); alice from a trusted network and from another address, and bob, get in', async () => {
  const mark = worker.output.length;
  for (let i = 1; i <= 4; i++) expect(await imapLogin('alice', `guess-${i}`, '127.0.0.21')).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
  const guesses = requests(mark, 'alice');
  expect(guesses.map((r) => [r.result, r.throttle ?? '-', r.delay_ms ?? '-'])).toEqual([
    ['PAM_AUTH_ERR', '-', '-'], ['PAM_AUTH_ERR', '-', '-'], ['PAM_AUTH_ERR', 'delayed', '3000'], ['PAM_AUTH_ERR', 'delayed', '3000'],
  ]);
  // Refused now, even with the right password: the client is told what a wrong password gets.
  const refusedAt = worker.output.length;
  expect(await imapLogin('alice', 'wonderland', '127.0.0.21')).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
  expect(requests(refusedAt, 'alice')).toEqual([expect.objectContaining({ result: 'PAM_MAXTRIES', throttle: 'refused', rhost: '127.0.0.21' })]);
  expect(requests(refusedAt, 'alice')[0].reason).toMatch(/throttled: 4 failures from this address/);
  expect(dovecot.log()).toMatch(/pam\(alice,127\.0\.0\.21.*pam_authenticate\(\) failed: Have exhausted maximum number of retries/);
  // Untouched: alice from the trusted network and from another address, bob from another.
  expect(await imapLogin('alice', 'wonderland', TRUSTED)).toMatch(/^a1 OK /);
  expect(await imapLogin('alice', 'wonderland', '127.0.0.22')).toMatch(/^a1 OK /);
  expect(await imapLogin('bob', 'builder', '127.0.0.23')).toMatch(/^a1 OK /);
}, 120000);

test('SMTP AUTH through saslauthd (no client address): guessing carol is slowed, then refused; dave is untouched, carol still gets in over IMAP', async () => {
  const mark = worker.output.length;
  for (let i = 1; i <= 4; i++) expect(await swaks('carol', `guess-${i}`)).toMatch(/535 5\.7\.8 Error: authentication failed/);
  expect(requests(mark, 'carol').map((r) => [r.service, r.result, r.throttle ?? '-'])).toEqual([
    ['smtp', 'PAM_AUTH_ERR', '-'], ['smtp', 'PAM_AUTH_ERR', '-'], ['smtp', 'PAM_AUTH_ERR', 'delayed'], ['smtp', 'PAM_AUTH_ERR', 'delayed'],
  ]);
  const refusedAt = worker.output.length;
  expect(await swaks('carol', 'christmas')).toMatch(/535 5\.7\.8 Error: authentication failed/);
  expect(requests(refusedAt, 'carol')).toEqual([expect.objectContaining({ service: 'smtp', result: 'PAM_MAXTRIES', throttle: 'refused' })]);
  expect(requests(refusedAt, 'carol')[0].reason).toMatch(/throttled: 4 failures for this user from this address/);
  expect(await swaks('dave', 'diving')).toMatch(/235 2\.7\.0 Authentication successful/);
  expect(await imapLogin('carol', 'christmas', TRUSTED)).toMatch(/^a1 OK /);
  expect(await imapLogin('carol', 'christmas', '127.0.0.24')).toMatch(/^a1 OK /);
}, 180000);

test('a client retrying one old saved password is not locked out, over IMAP and SMTP', async () => {
  const mark = worker.output.length;
  for (let i = 0; i < 8; i++) {
    expect(await imapLogin('dave', 'old-password', '127.0.0.25')).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
    expect(await swaks('bob', 'old-password')).toMatch(/535 5\.7\.8/);
  }
  const lines = [...requests(mark, 'dave'), ...requests(mark, 'bob')];
  expect(lines).toHaveLength(16);
  expect(lines.filter((r) => r.result !== 'PAM_AUTH_ERR')).toEqual([]);
  expect(lines.filter((r) => r.throttle === 'refused' || r.throttle === 'delayed')).toEqual([]);
  expect(await imapLogin('dave', 'diving', '127.0.0.25')).toMatch(/^a1 OK /);
  expect(await swaks('bob', 'builder')).toMatch(/235 2\.7\.0 Authentication successful/);
}, 180000);
