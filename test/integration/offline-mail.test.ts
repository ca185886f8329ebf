// The "done when": with the offline cache on, a MariaDB outage leaves users who logged
// in before it able to send mail (Postfix SMTP AUTH through saslauthd -a pam) and read it
// (Dovecot IMAP, passdb pam), and nobody else; each program a private instance.
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { MODULE_PATH, REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { PrivateDovecot, imapLogin } from '../helpers/mail/dovecot';
import { removeStalePamWrapperDirs } from '../helpers/mail/daemon';
import { PrivatePostfix } from '../helpers/mail/postfix';
import { Saslauthd } from '../helpers/mail/saslauthd';
import { freePort } from '../../src/sandbox/ports';
import { parseCacheText } from '../../src/worker/offline-cache';

const run = promisify(execFile);
const EXAMPLES = path.join(REPO_ROOT, 'pam.d-examples');

let db: PrivateMariaDB;
let box: Sandbox;
let saslauthd: Saslauthd;
let postfix: PrivatePostfix;
let dovecot: PrivateDovecot;
let cacheFile: string;

async function swaks(user: string, password: string): Promise<string> {
  recordSecret(password);
  const args = ['--server', `127.0.0.1:${postfix.port}`, '--auth', 'PLAIN', '--auth-user', user, '--auth-password', password,
    '--from', `${user}@example.org`, '--to', 'someone@example.net', '--h-Subject', 'pam_mapi offline test', '--timeout', '20'];
  try {
    return (await run('swaks', args)).stdout;
  } catch (e) {
    return (e as { stdout?: string }).stdout ?? String(e);
  }
}

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await createKopanoDatabase(db, 'kopano');
  await insertKopanoUser(db, 'kopano', { login: 'bob', password: 'builder-offline', enabled: ['imap'] });
  await insertKopanoUser(db, 'kopano', { login: 'carol', password: 'christmas-offline', enabled: ['imap'] });
  await db.createReader('kopano', 'pw', 'kopano');
  box = Sandbox.create();
  cacheFile = path.join(box.dir, 'state', 'default.cache');
  const config = box.writeConfig(`[store]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = pw\noffline_cache = yes\noffline_cache_file = ${cacheFile}\n`, 'store_timeout = 2\n');
  await box.startWorker(config);
  const svc = path.join(box.dir, 'svc');
  fs.mkdirSync(svc);
  fs.writeFileSync(path.join(svc, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  const example = (name: string): string => fs.readFileSync(path.join(EXAMPLES, name), 'utf8').replace(/\bpam_mapi\.so\b/g, `${MODULE_PATH} ${box.workerArg}`);
  fs.writeFileSync(path.join(svc, 'smtp'), example('smtp'));
  fs.writeFileSync(path.join(svc, 'imap'), example('imap'));
  saslauthd = await Saslauthd.start(box.dir, svc);
  postfix = await PrivatePostfix.start(path.join(box.dir, 'postfix'), await freePort(), saslauthd.mux);
  dovecot = await PrivateDovecot.start(path.join(box.dir, 'dovecot'), await freePort(), svc);
}, 120000);

afterAll(async () => {
  await dovecot?.stop();
  await postfix?.stop();
  await saslauthd?.stop();
  await box?.cleanup();
  await db?.destroy();
  removeStalePamWrapperDirs();
}, 60000);

test('MariaDB stopped: bob, seen online, sends and reads mail; carol, never seen, and a wrong password do not', async () => {
  expect(await swaks('bob', 'builder-offline')).toMatch(/235 2\.7\.0 Authentication successful/);
  expect(await imapLogin(dovecot.port, 'bob', 'builder-offline')).toMatch(/^a1 OK .*Logged in/);
  for (let i = 0; i < 200; i++) {
    const parsed = fs.existsSync(cacheFile) ? parseCacheText(fs.readFileSync(cacheFile, 'utf8')) : 'absent';
    if (typeof parsed !== 'string' && parsed.has('bob')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await db.stop();
  try {
    const before = await postfix.queued();
    const sent = await swaks('bob', 'builder-offline');
    expect(sent).toMatch(/235 2\.7\.0 Authentication successful/);
    expect(sent).toMatch(/250 2\.0\.0 Ok: queued as [0-9A-F]+/);
    expect(await postfix.queued()).toBe(before + 1);
    expect(await imapLogin(dovecot.port, 'bob', 'builder-offline')).toMatch(/^a1 OK .*Logged in/);
    expect(await swaks('carol', 'christmas-offline')).toMatch(/535 5\.7\.8 Error: authentication failed/);
    expect(await imapLogin(dovecot.port, 'carol', 'christmas-offline')).toMatch(/^a1 NO /);
    expect(await swaks('bob', 'not-builder')).toMatch(/535 5\.7\.8 Error: authentication failed/);
    expect(await imapLogin(dovecot.port, 'bob', 'not-builder')).toMatch(/^a1 NO /);
  } finally {
    await db.launch();
  }
}, 120000);
