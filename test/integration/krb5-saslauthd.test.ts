// SMTP AUTH's path to a Kerberos realm: saslauthd -a pam (a private instance through
// pam_wrapper) with the shipped smtp stanza, the built module, a worker with a krb5 store, and a
// private MIT KDC; and the same stack pointed at a spoofing KDC.
import fs from 'fs';
import path from 'path';
import { PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { MODULE_PATH, REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { removeStalePamWrapperDirs } from '../helpers/mail/daemon';
import { Saslauthd } from '../helpers/mail/saslauthd';

const SPOOFED = 'spoofed-smtp-pw';
let kdc: PrivateKdc;
let spoofer: PrivateKdc;
let box: Sandbox;
let saslauthd: Saslauthd;

beforeAll(async () => {
  kdc = await PrivateKdc.start({ port: await freePort(), principals: [{ name: 'alice', password: 'smtp-wonderland' }] });
  spoofer = await PrivateKdc.start({ port: await freePort(), principals: [{ name: 'alice', password: SPOOFED }] });
  recordSecret(SPOOFED);
  box = Sandbox.create();
  const section = (name: string, k: PrivateKdc): string => `[store${name}]\ntype = krb5\nrealm = ${TEST_REALM}\nkdc = ${k.address}\nkeytab = ${kdc.keytabFile}\n`;
  await box.startWorker(box.writeConfig(`${section('', kdc)}\n${section('.spoofed', spoofer)}`));
  const smtp = fs.readFileSync(path.join(REPO_ROOT, 'pam.d-examples', 'smtp'), 'utf8').replace(/\bpam_mapi\.so\b/g, `${MODULE_PATH} ${box.workerArg}`);
  const svc = path.join(box.dir, 'svc');
  fs.mkdirSync(svc);
  fs.writeFileSync(path.join(svc, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  fs.writeFileSync(path.join(svc, 'smtp'), smtp);
  fs.writeFileSync(path.join(svc, 'smtp-spoofed'), smtp.replace(/try_first_pass/g, 'try_first_pass store=spoofed'));
  saslauthd = await Saslauthd.start(box.dir, svc);
}, 120000);

afterAll(async () => {
  await saslauthd?.stop();
  await box?.cleanup();
  await kdc?.destroy();
  await spoofer?.destroy();
  removeStalePamWrapperDirs();
}, 60000);

test('testsaslauthd -s smtp: OK with the KDC\'s password, NO with a wrong one', async () => {
  expect(await saslauthd.test('alice', 'smtp-wonderland', 'smtp')).toBe('0: OK "Success."');
  expect(await saslauthd.test('alice', 'smtp-wonder', 'smtp')).toBe('0: NO "authentication failed"');
  expect(await saslauthd.test('mallory', 'smtp-wonderland', 'smtp')).toBe('0: NO "authentication failed"');
}, 30000);

test('pointed at a spoofing KDC: NO, even with the password the spoofer knows', async () => {
  expect(fs.readFileSync(path.join(box.dir, 'svc', 'smtp-spoofed'), 'utf8')).toMatch(/store=spoofed/);
  expect(await saslauthd.test('alice', SPOOFED, 'smtp-spoofed')).toBe('0: NO "authentication failed"');
}, 30000);
