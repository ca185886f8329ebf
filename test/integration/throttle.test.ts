// The cross-service throttle with real clients: IMAP guessing through Dovecot (which sets
// PAM_RHOST) and SMTP AUTH guessing through Postfix and saslauthd (which does not) are slowed,
// then refused with PAM_MAXTRIES without checking the password, while the attacked user still
// logs in from a trusted network and from another address, another user is untouched, and a
// client retrying one old password is never locked out. Small thresholds keep the run short;
// the defaults are in test/unit/throttle.test.ts.
import { MODULE_PATH, Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { imapLogin as imapLoginAt } from '../helpers/mail/dovecot';
import { MailStack, pamServiceDir } from '../helpers/mail/stack';

const TRUSTED = '127.0.0.200';

let box: Sandbox;
let worker: WorkerProcess;
let stack: MailStack;

/** IMAP LOGIN from a chosen loopback address (Dovecot passes it as PAM_RHOST). */
const imapLogin = (user: string, password: string, from: string): Promise<string> => imapLoginAt(stack.dovecot.port, user, password, from);
/** SMTP AUTH only, through Postfix and saslauthd (which passes no client address). */
const swaks = (user: string, password: string): Promise<string> => stack.swaks(user, password, ['--quit-after', 'AUTH']);

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
  // No nodelay: the throttle's longer fail delay is asked for and libpam applies it.
  const line = `${MODULE_PATH} ${box.workerArg}`;
  const stanza = `auth required ${line}\naccount required ${line}\n`;
  stack = await MailStack.start(box.dir, pamServiceDir(box.dir, { smtp: stanza, imap: stanza }));
}, 120000);

afterAll(async () => {
  await stack?.stop();
  await box?.cleanup();
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
  expect(stack.dovecot.log()).toMatch(/pam\(alice,127\.0\.0\.21.*pam_authenticate\(\) failed: Have exhausted maximum number of retries/);
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
