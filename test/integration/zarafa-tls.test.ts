// TLS to MySQL: with ssl_ca the worker verifies the server's certificate; the right CA works,
// a wrong CA is refused (PAM_AUTHINFO_UNAVAIL), never silently downgraded.
import path from 'path';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { Sandbox } from '../../src/sandbox/sandbox';
import { makeTestPki, TestPki } from '../../src/sandbox/test-ca';
import { pamRun } from '../helpers/pam';
import { freePort } from '../../src/sandbox/ports';

let db: PrivateMariaDB;
let otherDb: PrivateMariaDB;
let otherPort: number;
let box: Sandbox;
let pki: TestPki;
let otherCa: TestPki;
let wrongName: TestPki;
let port: number;

beforeAll(async () => {
  box = Sandbox.create();
  pki = makeTestPki(path.join(box.dir, 'pki'));
  otherCa = makeTestPki(path.join(box.dir, 'other'), 'some other CA');
  wrongName = makeTestPki(path.join(box.dir, 'wrongname'), 'pam_mapi test CA 2', 'DNS:db.example.org');
  port = await freePort();
  db = await PrivateMariaDB.start({ port, tls: pki });
  otherDb = await PrivateMariaDB.start({ port: otherPort = await freePort(), tls: wrongName });
  await createKopanoDatabase(otherDb, 'kopano');
  await insertKopanoUser(otherDb, 'kopano', { login: 'alice', password: 'wonderland' });
  await otherDb.createReader('kopano', 'pw', 'kopano', true);
  await createKopanoDatabase(db, 'kopano');
  await insertKopanoUser(db, 'kopano', { login: 'alice', password: 'wonderland' });
  await db.createReader('kopano', 'pw', 'kopano', true);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
  await otherDb?.destroy();
});

test('the right CA: accepted; a wrong CA or a certificate for another name: PAM_AUTHINFO_UNAVAIL; no CA: the server requires TLS', async () => {
  const section = (name: string, extra: string): string => `[store.${name}]\ntype = zarafa\nhost = 127.0.0.1:${port}\nuser = kopano\npassword = pw\n${extra}\n`;
  const config = box.writeConfig(`[store]\ntype = file\npath = /nonexistent-but-unused\n`.replace('path = /nonexistent-but-unused\n', `path = ${box.writeUsers([])}\n`)
    + section('good', `ssl_ca = ${pki.caCert}`) + section('wrongca', `ssl_ca = ${otherCa.caCert}`) + section('plain', '')
    + `[store.wrongname]\ntype = zarafa\nhost = 127.0.0.1:${otherPort}\nuser = kopano\npassword = pw\nssl_ca = ${wrongName.caCert}\n`, 'store_timeout = 3\n');
  for (const name of ['good', 'wrongca', 'plain', 'wrongname']) box.service(name, [`auth required {module} store=${name} ${box.workerArg}`]);
  const worker = await box.startWorker(config);

  expect((await pamRun(box, 'good', 'alice', ['wonderland'])).auth).toBe('PAM_SUCCESS');
  expect((await pamRun(box, 'good', 'alice', ['nope'])).auth).toBe('PAM_AUTH_ERR');
  expect((await pamRun(box, 'wrongca', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
  expect(worker.output).toMatch(/store=wrongca .*(self.signed|unable to verify|certificate)/i);
  // A certificate from the right CA but for another name: refused too.
  expect((await pamRun(box, 'wrongname', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
  expect(worker.output).toMatch(/store=wrongname .*(IP: 127.0.0.1 is not in the cert's list|altnames)/);
  // The database account requires TLS, so a store without ssl_ca cannot log in at all.
  expect((await pamRun(box, 'plain', 'alice', ['wonderland'])).auth).toBe('PAM_AUTHINFO_UNAVAIL');
}, 30000);
