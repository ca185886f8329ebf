// Can a login name make the shipped fail2ban jails ban someone else? Hostile names go through
// REAL saslauthd (testsaslauthd, and Postfix SMTP AUTH), and REAL Dovecot IMAP (which puts the
// login into PAM_RUSER too), pam_mapi writes its lines through libpam to syslog, and Debian's
// fail2ban reads them with the jails and filters from docs/fail2ban in a private config
// directory. Every attempt must yield the true client address or none, never a forged one and
// never a moved or shortened one. saslauthd gives PAM no client address, so for SMTP the
// protection is Postfix's own line through fail2ban's postfix-sasl filter, tested here too.
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { promisify } from 'util';
import { MODULE_PATH, Sandbox } from '../../src/sandbox/sandbox';
import { freePort } from '../../src/sandbox/ports';
import { jailFilter, privateFail2banConfig } from '../helpers/fail2ban';
import { removeStalePamWrapperDirs } from '../helpers/mail/daemon';
import { PrivateDovecot } from '../helpers/mail/dovecot';
import { PrivatePostfix } from '../helpers/mail/postfix';
import { Saslauthd } from '../helpers/mail/saslauthd';
import { syslogMark, syslogSince } from '../helpers/syslog';
import { recordSecret } from '../../src/sandbox/secret-audit';

const run = promisify(execFile);
const FORGED = '198.51.100.66';
const IMAP_CLIENT = '127.0.0.12'; // a 1,968-character login once cut this to 127.0.0.1
const SMTP_CLIENT = '127.0.0.66';
// Every name starts with this run's tag, so its lines are told from other suites' lines in the
// shared test syslog whatever the escaping does to the rest of the name.
const TAG = `f2b${crypto.randomBytes(3).toString('hex')}`;
const padded = (n: number, tail = ''): string => `${TAG}${'a'.repeat(n - TAG.length - tail.length)}${tail}`;

const HOSTILE: string[] = [
  `${TAG} rhost=${FORGED}`,
  `${TAG} rhost=${FORGED} user=x`,
  `${TAG}" rhost="${FORGED}`,
  `${TAG}' rhost='${FORGED}`,
  `${TAG}\\ rhost=${FORGED}`,
  `${TAG}\\" rhost=\\"${FORGED}`,
  `${TAG}\u00a0rhost=${FORGED}`,
  `${TAG}=rhost=${FORGED}`,
  `${TAG} [${FORGED}]: SASL PLAIN authentication failed: x`,
];
const LONG: string[] = [padded(1968), padded(1980), padded(2000), padded(2000, ` rhost=${FORGED}`)];

let box: Sandbox;
let saslauthd: Saslauthd;
let postfix: PrivatePostfix;
let dovecot: PrivateDovecot;
let f2b: string;
let server: ChildProcess | undefined;

const authLog = (): string => path.join(box.dir, 'auth.log');
const sock = (): string => path.join(box.dir, 'fail2ban.sock');
const client = (...args: string[]): string => {
  try {
    return execFileSync('fail2ban-client', ['-s', sock(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

/** The addresses fail2ban-regex finds in these log lines, one per matched line. The lines also
 * go to the log the running pam-mapi jail reads. */
function found(lines: string[], filter: string): string[] {
  const file = path.join(f2b, `lines-${crypto.randomBytes(4).toString('hex')}.log`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  if (filter === jailFilter('pam-mapi')) fs.appendFileSync(authLog(), lines.join('\n') + '\n');
  const out = execFileSync('fail2ban-regex', ['-c', f2b, '-o', '<ip>', file, filter], { encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n');
}

/** pam_mapi's failure lines for this run's names, as rsyslog writes them to auth.log. */
async function failureLines(mark: number, count: number): Promise<string[]> {
  let lines: string[] = [];
  for (let i = 0; i < 40 && lines.length < count; i++) {
    lines = (await syslogSince(mark, 250, 'any')).filter((l) => l.includes('pam_mapi(') && l.includes('authentication failure;') && l.includes(TAG));
  }
  return lines.map((l) => l.replace(/^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) /, '$1 mailhost '));
}

/** IMAP AUTHENTICATE PLAIN from a chosen loopback address (Dovecot reports it as the client's).
 * Not LOGIN: imap-login takes command lines of at most 1 KiB, but an AUTHENTICATE response of
 * up to 8 KiB, so a 2,000-character login gets through this way. Returns the tagged answer. */
function imapAuthenticate(user: string, password: string, from: string): Promise<string> {
  recordSecret(password);
  const response = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port: dovecot.port, host: '127.0.0.1', localAddress: from });
    let buf = '';
    let step = 0;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`IMAP: no answer; got ${JSON.stringify(buf)}`)); }, 15000);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (step === 0 && buf.includes('* OK')) {
        step = 1;
        sock.write('a1 AUTHENTICATE PLAIN\r\n');
      }
      if (step === 1 && /^\+/m.test(buf)) {
        step = 2;
        sock.write(`${response}\r\n`);
      }
      const line = buf.split('\r\n').find((l) => l.startsWith('a1 ') || l.startsWith('* BYE'));
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
  const args = ['--server', `127.0.0.1:${postfix.port}`, '--local-interface', SMTP_CLIENT, '--auth', 'PLAIN', '--auth-user', user,
    '--auth-password', password, '--from', 'a@example.org', '--to', 'b@example.net', '--timeout', '20', '--quit-after', 'AUTH'];
  try {
    return (await run('swaks', args)).stdout;
  } catch (e) {
    return (e as { stdout?: string }).stdout ?? String(e);
  }
}

beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }]);
  await box.startWorker(box.writeConfig(`[store]\npath = ${box.dir}/users\n`));
  const svc = path.join(box.dir, 'svc');
  fs.mkdirSync(svc);
  fs.writeFileSync(path.join(svc, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  for (const s of ['smtp', 'imap']) fs.writeFileSync(path.join(svc, s), `auth required ${MODULE_PATH} ${box.workerArg} nodelay\naccount required pam_permit.so\n`);
  saslauthd = await Saslauthd.start(box.dir, svc);
  postfix = await PrivatePostfix.start(path.join(box.dir, 'postfix'), await freePort(), saslauthd.mux);
  // Dovecot's default auth_username_chars refuses most hostile names before PAM is asked; an
  // administrator may allow every character, and the jail must hold then too.
  dovecot = await PrivateDovecot.start(path.join(box.dir, 'dovecot'), await freePort(), svc, 'imap', 'auth_username_chars =\n');
  // The jails' log files must exist for fail2ban to start them.
  fs.writeFileSync(authLog(), '');
  // Only what a test must change: where the logs are, no jails of this machine's own, a ban
  // that writes to a file instead of the firewall, and loopback clients not exempt.
  const banned = path.join(box.dir, 'banned');
  f2b = privateFail2banConfig([
    '[DEFAULT]', 'backend = polling', 'ignoreip =', 'ignoreself = false', '[sshd]', 'enabled = false',
    '[pam-mapi]', `logpath = ${authLog()}`, `action = dummy[target=${banned}-pam-mapi]`,
    '[postfix-sasl]', `logpath = ${path.join(postfix.dir, 'maillog')}`, `action = dummy[target=${banned}-postfix-sasl]`, '',
  ].join('\n'));
  fs.writeFileSync(path.join(f2b, 'fail2ban.local'), `[Definition]\ndbfile = :memory:\nlogtarget = ${path.join(box.dir, 'fail2ban.log')}\n`);
  // The real server, in the foreground of its own process group, with its own socket.
  server = spawn('fail2ban-server', ['-f', '-x', '-s', sock(), '-p', path.join(box.dir, 'fail2ban.pid'), '-c', f2b], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !/pong/.test(client('ping')); i++) await new Promise((r) => setTimeout(r, 100));
}, 120000);

afterAll(async () => {
  if (server !== undefined) {
    client('stop');
    const gone = new Promise((r) => server?.once('exit', r));
    if (server.exitCode === null) await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  await dovecot?.stop();
  await postfix?.stop();
  await saslauthd?.stop();
  await box?.cleanup();
  if (f2b) fs.rmSync(f2b, { recursive: true, force: true });
  removeStalePamWrapperDirs();
}, 60000);

test('fail2ban loads the shipped jails: pam-mapi and postfix-sasl both start', () => {
  const dump = execFileSync('fail2ban-client', ['-c', f2b, '-d'], { encoding: 'utf8' });
  expect(dump).toContain("['start', 'pam-mapi']");
  expect(dump).toContain("['start', 'postfix-sasl']");
  expect(dump).not.toMatch(/config-error/);
});

test('Dovecot IMAP: hostile and long logins yield the true client address, whole, every time', async () => {
  const names = [...HOSTILE, ...LONG];
  const mark = syslogMark();
  for (const name of names) expect(await imapAuthenticate(name, 'wrong-password', IMAP_CLIENT)).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
  const lines = await failureLines(mark, names.length);
  if (lines.length !== names.length) throw new Error(`${lines.length} of ${names.length} failure lines; Dovecot's log ends:\n${dovecot.log().slice(-4000)}`);
  expect(found(lines, jailFilter('pam-mapi'))).toEqual(names.map(() => IMAP_CLIENT));
  // The address is in every line, whole, once.
  for (const l of lines) expect(l.match(/ rhost=\S*/g)).toEqual([` rhost=${IMAP_CLIENT}`]);
}, 120000);

test('saslauthd (testsaslauthd): no client address, so the pam-mapi jail finds none, never a forged one', async () => {
  // saslauthd itself refuses names longer than 256 bytes before PAM is asked.
  const names = [...HOSTILE, padded(256)];
  const mark = syslogMark();
  for (const name of names) expect(await saslauthd.test(name, 'wrong-password', 'smtp')).toMatch(/^0: NO /);
  const lines = await failureLines(mark, names.length);
  expect(lines).toHaveLength(names.length);
  expect(found(lines, jailFilter('pam-mapi'))).toEqual([]);
  for (const l of lines) expect(l.match(/ rhost=\S*/g)).toEqual([' rhost=']);
}, 120000);

test('Postfix SMTP AUTH through saslauthd: pam-mapi finds no address, postfix-sasl finds the true client each time', async () => {
  const mark = syslogMark();
  const before = postfix.log().split('\n').length - 1;
  for (const name of HOSTILE) expect(await swaks(name, 'wrong-password')).toMatch(/535 5\.7\.8 Error: authentication failed/);
  const lines = await failureLines(mark, HOSTILE.length);
  expect(lines).toHaveLength(HOSTILE.length);
  expect(found(lines, jailFilter('pam-mapi'))).toEqual([]);

  // Postfix's own lines of these attempts, as its maillog_file has them.
  const mail = postfix.log().split('\n').slice(before).filter((l) => l !== '');
  expect(mail.filter((l) => /SASL PLAIN authentication failed/.test(l))).toHaveLength(HOSTILE.length);
  expect(found(mail, jailFilter('postfix-sasl'))).toEqual(HOSTILE.map(() => SMTP_CLIENT));
}, 120000);

test('the running jails ban the true clients and no one else', async () => {
  // Every failure of the tests above is in the jails' logs: 13 from 127.0.0.12 through Dovecot,
  // 9 from 127.0.0.66 through Postfix, none with an address through saslauthd.
  const want = { 'pam-mapi': [IMAP_CLIENT], 'postfix-sasl': [SMTP_CLIENT] };
  const bans = (): Record<string, string[]> => {
    const found = [...client('banned').matchAll(/'([\w-]+)': \[([^\]]*)\]/g)].map((m) => [m[1], [...m[2].matchAll(/'([^']+)'/g)].map((x) => x[1]).sort()]);
    return Object.fromEntries(found.sort(([a], [b]) => String(a).localeCompare(String(b)))) as Record<string, string[]>;
  };
  // The polling backend reads new lines about once a second.
  for (let i = 0; i < 60 && JSON.stringify(bans()) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 250));
  expect(bans()).toEqual(want);
}, 30000);
