// pam_mapi in a real mail stack, each program a private instance: saslauthd -a pam (through
// pam_wrapper), Postfix SMTP AUTH through that saslauthd, Dovecot IMAP with passdb pam, and
// the smtp-debian stanza stacked with Debian's common-auth for a real Unix user.
import { execFileSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { MODULE_PATH, REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { imapLogin } from '../helpers/mail/dovecot';
import { MailStack, pamServiceDir } from '../helpers/mail/stack';
import { pamRun } from '../helpers/pam';
import { syslogMark, syslogSince } from '../helpers/syslog';

const EXAMPLES = path.join(REPO_ROOT, 'pam.d-examples');
const unixUser = `pmt${crypto.randomBytes(3).toString('hex')}`;
const unixPassword = 'unix-Pass-7';
recordSecret(unixPassword);

let db: PrivateMariaDB;
let box: Sandbox;
let svc: string;
let stack: MailStack;

/** An example stanza as shipped, pointed at the built module and this test's worker. */
function example(name: string): string {
  return fs.readFileSync(path.join(EXAMPLES, name), 'utf8').replace(/\bpam_mapi\.so\b/g, `${MODULE_PATH} ${box.workerArg}`);
}

/** SMTP AUTH and a message through Postfix and saslauthd. */
const swaks = (auth: 'PLAIN' | 'LOGIN', user: string, password: string): Promise<string> => stack.swaks(user, password, ['--h-Subject', 'pam_mapi test'], auth);

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await createKopanoDatabase(db, 'kopano');
  await insertKopanoUser(db, 'kopano', { login: 'alice', password: 'wonderland' });
  await insertKopanoUser(db, 'kopano', { login: 'bob', password: 'builder', enabled: ['imap'] });
  await insertKopanoUser(db, 'kopano', { login: 'carol', password: 'christmas', enabled: ['pop3'] });
  await db.createReader('kopano', 'pw', 'kopano');
  box = Sandbox.create();
  const config = box.writeConfig(`[store]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\n`);
  await box.startWorker(config);

  // The PAM service directory the daemons see through pam_wrapper.
  svc = pamServiceDir(box.dir, {
    // SMTP only for users who may also read mail: a user without either feature is refused.
    smtp: example('smtp').replace('try_first_pass\n', 'try_first_pass service=pop3|imap\n'),
    imap: example('imap'),
    smtpstack: example('smtp-debian'),
  });
  for (const f of ['common-auth', 'common-account']) fs.copyFileSync(path.join('/etc/pam.d', f), path.join(svc, f));

  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', unixUser]);
  execFileSync('chpasswd', [], { input: `${unixUser}:${unixPassword}\n` });

  stack = await MailStack.start(box.dir, svc);
}, 120000);

afterAll(async () => {
  await stack?.stop();
  await box?.cleanup();
  await db?.destroy();
  try { execFileSync('userdel', [unixUser]); } catch { /* not created */ }
}, 60000);

describe('saslauthd -a pam', () => {
  test('testsaslauthd -s smtp: OK for a Zarafa user from MariaDB, NO for a wrong password', async () => {
    expect(await stack.saslauthd.test('bob', 'builder', 'smtp')).toBe('0: OK "Success."');
    expect(await stack.saslauthd.test('bob', 'wrong', 'smtp')).toBe('0: NO "authentication failed"');
    expect(await stack.saslauthd.test('alice', 'wonderland', 'smtp')).toBe('0: NO "authentication failed"');
  }, 30000);
});

describe('Postfix SMTP AUTH through saslauthd', () => {
  test('AUTH PLAIN and AUTH LOGIN as a Zarafa user: the message reaches the queue', async () => {
    const before = await stack.postfix.queued();
    const plain = await swaks('PLAIN', 'bob', 'builder');
    expect(plain).toMatch(/235 2\.7\.0 Authentication successful/);
    expect(plain).toMatch(/250 2\.0\.0 Ok: queued as [0-9A-F]+/);
    const login = await swaks('LOGIN', 'carol', 'christmas');
    expect(login).toMatch(/235 2\.7\.0 Authentication successful/);
    expect(login).toMatch(/250 2\.0\.0 Ok: queued as [0-9A-F]+/);
    expect(await stack.postfix.queued()).toBe(before + 2);
  }, 60000);
  test('a wrong password gets 535, and so does a user without the feature the stanza requires', async () => {
    const before = await stack.postfix.queued();
    expect(await swaks('PLAIN', 'bob', 'not-builder')).toMatch(/535 5\.7\.8 Error: authentication failed/);
    expect(await swaks('LOGIN', 'alice', 'wonderland')).toMatch(/535 5\.7\.8 Error: authentication failed/);
    expect(await stack.postfix.queued()).toBe(before);
  }, 60000);
});

describe('Dovecot IMAP with passdb pam', () => {
  test('LOGIN as a user with the imap feature succeeds; without it, or with a wrong password, fails', async () => {
    expect(await imapLogin(stack.dovecot.port, 'bob', 'builder')).toMatch(/^a1 OK .*Logged in/);
    expect(await imapLogin(stack.dovecot.port, 'alice', 'wonderland')).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
    expect(await imapLogin(stack.dovecot.port, 'bob', 'builder!')).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
    expect(stack.dovecot.log()).toMatch(/pam\(alice,127\.0\.0\.1.*pam_authenticate\(\) failed: Permission denied/);
  }, 60000);
});

describe('stacked with the system users (smtp-debian)', () => {
  test('a Zarafa user and a local Unix user both get in; wrong passwords do not', async () => {
    expect(await stack.saslauthd.test('bob', 'builder', 'smtpstack')).toBe('0: OK "Success."');
    expect(await stack.saslauthd.test(unixUser, unixPassword, 'smtpstack')).toBe('0: OK "Success."');
    expect(await stack.saslauthd.test(unixUser, 'wrong', 'smtpstack')).toBe('0: NO "authentication failed"');
    expect(await stack.saslauthd.test('bob', 'wrong', 'smtpstack')).toBe('0: NO "authentication failed"');
  }, 60000);
  test('with quiet, a Unix user passing through pam_mapi leaves no pam_mapi failure line', async () => {
    const mark = syslogMark();
    expect(await stack.saslauthd.test(unixUser, unixPassword, 'smtpstack')).toBe('0: OK "Success."');
    const lines = await syslogSince(mark, 300, 'any');
    expect(lines.filter((l) => l.includes('pam_mapi(') && l.includes(`user=${unixUser}`))).toEqual([]);
  }, 30000);
});

describe('every pam.d example loads in real libpam and answers as documented', () => {
  let dir: string;
  beforeAll(() => {
    dir = path.join(box.dir, 'examples');
    fs.mkdirSync(dir);
    // The stacks the examples include. Linux-PAM 1.5 resolves a relative include against
    // /etc/pam.d even with pam_start_confdir, so the includes are made absolute here.
    fs.writeFileSync(path.join(dir, 'system-auth'), 'auth required pam_unix.so\naccount required pam_unix.so\n');
    fs.writeFileSync(path.join(dir, 'password-auth'), 'auth required pam_unix.so\naccount required pam_unix.so\n');
    for (const f of ['common-auth', 'common-account']) fs.copyFileSync(path.join('/etc/pam.d', f), path.join(dir, f));
    for (const name of fs.readdirSync(EXAMPLES)) {
      const text = example(name).replace(/^(\s*(?:auth|account)\s+include\s+|@include\s+)(\S+)/gm, (_m, head: string, file: string) => `${head}${path.join(dir, file)}`);
      fs.writeFileSync(path.join(dir, name), text);
    }
  });
  const via = async (service: string, user: string, password: string): Promise<string | undefined> => {
    const r = await pamRun({ pamDir: dir } as Sandbox, service, user, [password], { account: true });
    return r.account ?? r.auth;
  };
  test.each([
    ['smtp', 'alice', 'wonderland', 'PAM_SUCCESS'],
    ['smtp', 'alice', 'wrong', 'PAM_AUTH_ERR'],
    ['imap', 'bob', 'builder', 'PAM_SUCCESS'],
    ['imap', 'alice', 'wonderland', 'PAM_PERM_DENIED'],
    ['pop3', 'carol', 'christmas', 'PAM_SUCCESS'],
    ['pop3', 'bob', 'builder', 'PAM_PERM_DENIED'],
    ['smtp-debian', 'alice', 'wonderland', 'PAM_SUCCESS'],
    ['smtp-system-auth', 'alice', 'wonderland', 'PAM_SUCCESS'],
    ['smtp-password-auth', 'alice', 'wonderland', 'PAM_SUCCESS'],
    ['smtp-password-auth', unixUser, unixPassword, 'PAM_SUCCESS'],
    ['smtp-password-auth', unixUser, 'wrong', 'PAM_AUTH_ERR'],
  ])('%s: %s with %s -> %s', async (service, user, password, want) => {
    expect(await via(service, user, password)).toBe(want);
  });
});
