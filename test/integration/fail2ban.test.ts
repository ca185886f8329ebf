// The shipped fail2ban jail against lines pam_mapi really wrote (through libpam, to syslog),
// checked with Debian's fail2ban-regex: every failure's rhost is found, the user is read
// whole (escaped), and a hostile user name never yields another host. The stock filter alone
// does not see pam_mapi's lines, which is why the jail and its filter exist. The hostile names
// sent through real saslauthd, Postfix and Dovecot are in fail2ban-forgery.test.ts.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Sandbox } from '../../src/sandbox/sandbox';
import { jailFilter, privateFail2banConfig } from '../helpers/fail2ban';
import { pamRun } from '../helpers/pam';
import { syslogMark, syslogSince } from '../helpers/syslog';

const filter = jailFilter('pam-mapi');

// user name -> the user fail2ban must read; each comes from its own rhost.
const ATTEMPTS: Array<[string, string]> = [
  ['alice', 'alice'],
  ['Mr Smith', 'Mr\\x20Smith'],
  ['x rhost=10.9.9.9', 'x\\x20rhost\\x3d10.9.9.9'],
  ['eve\nFAKE: rhost=10.8.8.8', 'eve\\x0aFAKE:\\x20rhost\\x3d10.8.8.8'],
  ['tab\there', 'tab\\x09here'],
  ['back\\slash', 'back\\x5cslash'],
  ['nobody-known', 'nobody-known'],
];

let box: Sandbox;
beforeAll(async () => {
  box = Sandbox.create();
  box.writeUsers([{ login: 'alice', password: 'wonderland' }, { login: 'Mr Smith', password: 'agent' }]);
  const config = box.writeConfig(`[store]\npath = ${box.dir}/users\n`);
  box.service('smtp', [`auth required {module} nodelay ${box.workerArg}`]);
  await box.startWorker(config);
});
afterAll(async () => {
  await box.cleanup();
});

test('the jail bans each failing rhost and reads the user whole, hostile names included', async () => {
  expect(filter).toBe('pam-mapi');
  const mark = syslogMark();
  for (const [i, [user]] of ATTEMPTS.entries()) {
    expect((await pamRun(box, 'smtp', user, ['wrong-password'], { rhost: `203.0.113.${100 + i}` })).auth).not.toBe('PAM_SUCCESS');
  }
  // Only this test's lines (its own rhosts): other suites log to the same syslog meanwhile.
  const raw = (await syslogSince(mark, 300)).filter((l) => l.includes('pam_mapi(smtp:auth): authentication failure') && /rhost=203\.0\.113\.1\d\d /.test(l));
  expect(raw).toHaveLength(ATTEMPTS.length);
  // As rsyslog writes them to /var/log/auth.log: "<PRI>Mmm dd hh:mm:ss tag[pid]: msg" gets a host.
  const logfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-f2b-')), 'auth.log');
  fs.writeFileSync(logfile, raw.map((l) => l.replace(/^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) /, '$1 mailhost ')).join('\n') + '\n');

  const conf = privateFail2banConfig();
  const found = execFileSync('fail2ban-regex', ['-c', conf, '-o', '<ip> <F-USER>', logfile, filter], { encoding: 'utf8' }).trim().split('\n');
  expect(found).toEqual(ATTEMPTS.map(([, logged], i) => `203.0.113.${100 + i} ${logged}`));
  // Never a host smuggled in through the user name.
  expect(found.join('\n')).not.toMatch(/^10\./m);
  // The stock filter (pam_unix only) sees none of these lines.
  const stock = execFileSync('fail2ban-regex', [logfile, 'pam-generic'], { encoding: 'utf8' });
  expect(stock).toMatch(new RegExp(`Lines: ${ATTEMPTS.length} lines, 0 ignored, 0 matched, ${ATTEMPTS.length} missed`));
  fs.rmSync(path.dirname(logfile), { recursive: true, force: true });
  fs.rmSync(conf, { recursive: true, force: true });
});

test('pam_unix\'s own failure line (two spaces before user=, as pam_unix writes it) is read too: with quiet it is the one that counts', async () => {
  // A real pam_unix failure: root with a wrong password, from its own rhost.
  box.service('unix', ['auth required pam_unix.so']);
  const mark = syslogMark();
  expect((await pamRun(box, 'unix', 'root', ['not-root-s-password'], { rhost: '203.0.113.201' })).auth).not.toBe('PAM_SUCCESS');
  const raw = (await syslogSince(mark, 300)).filter((l) => l.includes('pam_unix(unix:auth): authentication failure') && l.includes('rhost=203.0.113.201'));
  expect(raw).toHaveLength(1);
  expect(raw[0]).toMatch(/rhost=203\.0\.113\.201 {2}user=root$/);
  const logfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-f2b-')), 'auth.log');
  fs.writeFileSync(logfile, raw.map((l) => l.replace(/^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) /, '$1 mailhost ')).join('\n') + '\n');
  const conf = privateFail2banConfig();
  const found = execFileSync('fail2ban-regex', ['-c', conf, '-o', '<ip> <F-USER>', logfile, filter], { encoding: 'utf8' }).trim();
  expect(found).toBe('203.0.113.201 root');
  fs.rmSync(path.dirname(logfile), { recursive: true, force: true });
  fs.rmSync(conf, { recursive: true, force: true });
});

