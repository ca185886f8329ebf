// No clear-text link to a remote store, against real servers: the links that stay allowed
// (TLS to MariaDB, plain TCP to MariaDB on loopback, ldap:// on loopback, ldaps://, StartTLS)
// still log users in, and a worker given a remote database or directory without TLS refuses
// its config, naming the keys to set, unless allow_cleartext = yes. (The rule's cases, key by
// key, are in test/unit/cleartext.test.ts.)
import { execFileSync } from 'child_process';
import path from 'path';
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { freePort } from '../../src/sandbox/ports';
import { Sandbox } from '../../src/sandbox/sandbox';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { makeTestPki, TestPki } from '../../src/sandbox/test-ca';
import { pamRun } from '../helpers/pam';

let db: PrivateMariaDB;
let slapd: PrivateSlapd;
let box: Sandbox;
let pki: TestPki;
let port: number;

beforeAll(async () => {
  box = Sandbox.create();
  pki = makeTestPki(path.join(box.dir, 'pki'));
  port = await freePort();
  db = await PrivateMariaDB.start({ port, tls: pki });
  await createKopanoDatabase(db, 'kopano');
  await insertKopanoUser(db, 'kopano', { login: 'alice', password: 'wonderland' });
  await db.createReader('kopano', 'pw', 'kopano');
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  const hash = execFileSync('slappasswd', ['-h', '{SSHA}', '-s', 'looking-glass']).toString().trim();
  await slapd.add(`dn: cn=alice,${PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: kopano-user\ncn: alice\nsn: Test\nuid: alice\nuserPassword: ${hash}\n`);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
  await slapd?.destroy();
});

const zarafa = (name: string, extra: string): string => `[store.${name}]\ntype = zarafa\nuser = kopano\npassword = pw\n${extra}\n`;
const ldap = (name: string, extra: string): string => {
  const secret = box.file('ldap.secret', `${SERVICE_PASSWORD}\n`, 0o600);
  return `[store.${name}]\ntype = ldap\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\n${extra}\n`;
};
const FILE_STORE = (): string => `[store]\ntype = file\npath = ${box.writeUsers([])}\n`;

test('TLS and loopback links still log users in', async () => {
  const stores: Array<[string, string, string]> = [
    ['db-tls', zarafa('db-tls', `host = 127.0.0.1:${port}\nssl_ca = ${pki.caCert}`), 'wonderland'],
    ['db-loopback', zarafa('db-loopback', `host = 127.0.0.1:${port}`), 'wonderland'],
    ['db-socket', zarafa('db-socket', `socket = ${db.socketPath}`), 'wonderland'],
    ['ldap-loopback', ldap('ldap-loopback', `uri = ${slapd.ldapUri}`), 'looking-glass'],
    ['ldaps', ldap('ldaps', `uri = ${slapd.ldapsUri}\nca_file = ${slapd.caFile}`), 'looking-glass'],
    ['starttls', ldap('starttls', `uri = ${slapd.ldapUri}\nstarttls = yes\nca_file = ${slapd.caFile}`), 'looking-glass'],
  ];
  for (const [name] of stores) box.service(name, [`auth required {module} store=${name} ${box.workerArg}`]);
  const worker = await box.startWorker(box.writeConfig(FILE_STORE() + stores.map(([, s]) => s).join('\n'), 'store_timeout = 3\n'));
  try {
    for (const [name, , password] of stores) {
      expect([name, (await pamRun(box, name, 'alice', [password])).auth]).toEqual([name, 'PAM_SUCCESS']);
      expect([name, (await pamRun(box, name, 'alice', ['wrong'])).auth]).toEqual([name, 'PAM_AUTH_ERR']);
    }
  } finally {
    await worker.stop();
  }
}, 60000);

test.each([
  ['a database host over the network without ssl_ca', () => zarafa('remote', 'host = db1.example.org db2.example.org'), /\[store.remote\] host: db1.example.org:3306 is reached over the network without TLS.*ssl_ca.*allow_cleartext = yes/],
  ['an ldap:// URI to another host without starttls', () => ldap('remote', 'uri = ldap://ldap1.example.org'), /\[store.remote\] uri: ldap:\/\/ldap1.example.org:389 would carry users' passwords .*starttls = yes.*allow_cleartext = yes/],
])('%s: the worker refuses its config, naming the keys; with allow_cleartext = yes it starts', async (_what, sectionOf, message) => {
  const section = sectionOf();
  const refused = Sandbox.create();
  try {
    await expect(refused.startWorker(refused.writeConfig(FILE_STORE() + section))).rejects.toThrow(message);
    const accepted = await refused.startWorker(refused.writeConfig(FILE_STORE() + section + 'allow_cleartext = yes\n'));
    expect(accepted.output).toMatch(/ listening /);
  } finally {
    await refused.cleanup();
  }
}, 30000);
