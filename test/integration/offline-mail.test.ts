// The "done when": with the offline cache on, a MariaDB outage leaves users who logged
// in before it able to send mail (Postfix SMTP AUTH through saslauthd -a pam) and read it
// (Dovecot IMAP, passdb pam), and nobody else; each program a private instance.
import fs from 'fs';
import path from 'path';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { MODULE_PATH, REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { imapLogin } from '../helpers/mail/dovecot';
import { MailStack, pamServiceDir } from '../helpers/mail/stack';
import { parseCacheText } from '../../src/worker/offline-cache';

const EXAMPLES = path.join(REPO_ROOT, 'pam.d-examples');

let db: PrivateMariaDB;
let box: Sandbox;
let stack: MailStack;
let cacheFile: string;

/** SMTP AUTH and a message through Postfix and saslauthd. */
const swaks = (user: string, password: string): Promise<string> => stack.swaks(user, password, ['--h-Subject', 'pam_mapi offline test']);

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
  const example = (name: string): string => fs.readFileSync(path.join(EXAMPLES, name), 'utf8').replace(/\bpam_mapi\.so\b/g, `${MODULE_PATH} ${box.workerArg}`);
  stack = await MailStack.start(box.dir, pamServiceDir(box.dir, { smtp: example('smtp'), imap: example('imap') }));
}, 120000);

afterAll(async () => {
  await stack?.stop();
  await box?.cleanup();
  await db?.destroy();
}, 60000);

test('MariaDB stopped: bob, seen online, sends and reads mail; carol, never seen, and a wrong password do not', async () => {
  expect(await swaks('bob', 'builder-offline')).toMatch(/235 2\.7\.0 Authentication successful/);
  expect(await imapLogin(stack.dovecot.port, 'bob', 'builder-offline')).toMatch(/^a1 OK .*Logged in/);
  for (let i = 0; i < 200; i++) {
    const parsed = fs.existsSync(cacheFile) ? parseCacheText(fs.readFileSync(cacheFile, 'utf8')) : 'absent';
    if (typeof parsed !== 'string' && parsed.has('bob')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await db.stop();
  try {
    const before = await stack.postfix.queued();
    const sent = await swaks('bob', 'builder-offline');
    expect(sent).toMatch(/235 2\.7\.0 Authentication successful/);
    expect(sent).toMatch(/250 2\.0\.0 Ok: queued as [0-9A-F]+/);
    expect(await stack.postfix.queued()).toBe(before + 1);
    expect(await imapLogin(stack.dovecot.port, 'bob', 'builder-offline')).toMatch(/^a1 OK .*Logged in/);
    expect(await swaks('carol', 'christmas-offline')).toMatch(/535 5\.7\.8 Error: authentication failed/);
    expect(await imapLogin(stack.dovecot.port, 'carol', 'christmas-offline')).toMatch(/^a1 NO /);
    expect(await swaks('bob', 'not-builder')).toMatch(/535 5\.7\.8 Error: authentication failed/);
    expect(await imapLogin(stack.dovecot.port, 'bob', 'not-builder')).toMatch(/^a1 NO /);
  } finally {
    await db.launch();
  }
}, 120000);
