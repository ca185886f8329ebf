// No clear-text link to a remote store: a zarafa store whose database is reached over the
// network without ssl_ca, or an ldap store with an ldap:// URI to another host without
// starttls, is refused when the config is read, naming the keys that fix it, unless the section
// says allow_cleartext = yes. Loopback and Unix sockets need nothing. (That TLS and loopback
// links still log users in is checked against real servers in
// test/integration/cleartext-stores.test.ts.)
import fs from 'fs';
import os from 'os';
import path from 'path';
import { parseConfig } from '../../src/stores/registry';
import { isLoopbackHost } from '../../src/stores/cleartext';

const F = '/etc/pam_mapi.conf';
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-cleartext-'));
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));
// A CA file that passes the trusted-file check: the system's bundle (root's, in root's
// directories) where there is one, else one of ours (only its path and mode are checked here).
const SYSTEM_CA = '/etc/ssl/certs/ca-certificates.crt';
const CA = fs.existsSync(SYSTEM_CA) ? SYSTEM_CA : path.join(DIR, 'ca.pem');
if (CA !== SYSTEM_CA) fs.writeFileSync(CA, '', { mode: 0o644 });

const zarafa = (extra: string): string => `[store]\ntype = zarafa\nuser = pam_mapi\ndatabase = kopano\n${extra}\n`;
const ldap = (extra: string): string => `[store]\ntype = ldap\nbase = ou=people,dc=example,dc=org\n${extra}\n`;
const loads = (text: string): void => {
  expect(() => parseConfig(text, F)).not.toThrow();
};

describe('zarafa store', () => {
  test('the README\'s failover hosts without ssl_ca: refused, naming host, ssl_ca and allow_cleartext', () => {
    expect(() => parseConfig(zarafa('host = db1.example.org db2.example.org'), F))
      .toThrow(/\[store\] host: db1.example.org:3306 is reached over the network without TLS.*set ssl_ca = FILE.*or allow_cleartext = yes/);
  });

  test.each([
    ['one remote host among loopback ones', 'host = 127.0.0.1 db2.example.org:3307', /db2.example.org:3307 is reached over the network/],
    ['a remote IPv4 address', 'host = 192.0.2.10', /192.0.2.10:3306 is reached/],
    ['a remote IPv6 address', 'host = [2001:db8::5]:3306', /2001:db8::5:3306 is reached/],
    ['allow_cleartext = no, said explicitly', 'host = db1.example.org\nallow_cleartext = no', /db1.example.org:3306 is reached/],
  ])('%s: refused', (_what, extra, message) => {
    expect(() => parseConfig(zarafa(extra), F)).toThrow(message);
  });

  test('with ssl_ca, or with allow_cleartext = yes: loads', () => {
    loads(zarafa(`host = db1.example.org db2.example.org\nssl_ca = ${CA}`));
    loads(zarafa('host = db1.example.org db2.example.org\nallow_cleartext = yes'));
  });

  test('loopback hosts and Unix sockets need neither', () => {
    loads(zarafa('host = localhost'));
    loads(zarafa('host = localhost:3306 127.0.0.1 127.1.2.3:3307 [::1]'));
    loads(zarafa('socket = /run/mysqld/mysqld.sock'));
    loads(zarafa(''));
  });

  test('a remote mysql_host from server_cfg is refused too, saying where it came from', () => {
    const cfg = path.join(DIR, 'server.cfg');
    fs.writeFileSync(cfg, 'user_plugin = db\nmysql_host = db1.example.org\nmysql_user = kopano\n', { mode: 0o640 });
    expect(() => parseConfig(`[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`, F))
      .toThrow(new RegExp(`host: db1.example.org:3306 \\(mysql_host of ${cfg}\\) is reached over the network without TLS`));
    loads(`[store]\ntype = zarafa\nserver_cfg = ${cfg}\nssl_ca = ${CA}\n`);
  });

  test('allow_cleartext takes yes or no', () => {
    expect(() => parseConfig(zarafa('host = db1.example.org\nallow_cleartext = maybe'), F)).toThrow(/allow_cleartext: "maybe" is not yes or no/);
  });
});

describe('ldap store', () => {
  test('ldap:// to another host without starttls: refused, naming ldaps://, starttls and allow_cleartext', () => {
    expect(() => parseConfig(ldap('uri = ldap://ldap1.example.org'), F))
      .toThrow(/\[store\] uri: ldap:\/\/ldap1.example.org:389 would carry users' passwords over the network unencrypted: use ldaps:\/\/, or set starttls = yes, or allow_cleartext = yes/);
    expect(() => parseConfig(ldap('uri = ldaps://ldap1.example.org ldap://192.0.2.7:3389'), F)).toThrow(/uri: ldap:\/\/192.0.2.7:3389 would carry/);
  });

  test('ldaps://, starttls = yes, or allow_cleartext = yes: loads', () => {
    loads(ldap('uri = ldaps://ldap1.example.org ldaps://ldap2.example.org'));
    loads(ldap('uri = ldap://ldap1.example.org ldap://ldap2.example.org\nstarttls = yes'));
    loads(ldap('uri = ldap://ldap1.example.org\nallow_cleartext = yes'));
  });

  test('loopback ldap:// needs neither', () => {
    loads(ldap('uri = ldap://127.0.0.1:3389 ldap://localhost ldap:// ldap://[::1]:389'));
  });
});

test('loopback is what is spelled as this machine, never a name resolved', () => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) expect([h, isLoopbackHost(h)]).toEqual([h, true]);
  for (const h of ['db1.example.org', 'localhost.example.org', '128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', '127.0.0.1.example.org']) expect([h, isLoopbackHost(h)]).toEqual([h, false]);
});
