// One name per thing: the worker's socket is --worker PATH on every command line (as worker=PATH
// in a stanza), with the first spellings kept as aliases; every section reads yes/no keys the
// same way.
import { parseWorkerArgs } from '../../src/worker/args';
import { parseCheckArgs } from '../../src/cli/check';
import { parseConfig } from '../../src/stores/registry';
import { LdapSettings } from '../../src/stores/ldap/settings';
import { ZarafaSettings } from '../../src/stores/zarafa/settings';

const F = '/etc/pam_mapi.conf';

describe('the worker\'s socket', () => {
  test('pam-mapi-worker --worker PATH, and --socket PATH as its alias', () => {
    expect(parseWorkerArgs(['--worker', '/run/x.sock'])).toEqual({ kind: 'run', args: expect.objectContaining({ socket: '/run/x.sock' }) });
    expect(parseWorkerArgs(['--socket', '/run/x.sock'])).toEqual({ kind: 'run', args: expect.objectContaining({ socket: '/run/x.sock' }) });
    expect(parseWorkerArgs(['--worker'])).toEqual({ kind: 'usage', problem: '--worker needs a value' });
    expect(parseWorkerArgs(['--config', '/x.conf', '--debug'])).toEqual({ kind: 'run', args: { config: '/x.conf', configGiven: true, debug: true, daemon: false } });
    expect(parseWorkerArgs(['--daemon', '--log-file', '/l', '--pid-file', '/p'])).toEqual({ kind: 'run', args: expect.objectContaining({ daemon: true, logFile: '/l', pidFile: '/p' }) });
    expect(parseWorkerArgs(['--log-file', '/l'])).toEqual({ kind: 'usage', problem: '--log-file goes with --daemon' });
    expect(parseWorkerArgs(['--sokcet', '/x'])).toEqual({ kind: 'usage', problem: 'unknown argument --sokcet' });
  });
  test('pam-mapi check --worker PATH', () => {
    expect(parseCheckArgs(['alice', '--worker', '/run/x.sock'])).toMatchObject({ user: 'alice', worker: '/run/x.sock' });
  });
});

describe('one boolean reader for every section', () => {
  const ldap = (key: string, value: string): LdapSettings =>
    parseConfig(`[store]\ntype = ldap\nuri = ldap://127.0.0.1\nbase = dc=example,dc=org\n${key} = ${value}\n`, F).stores.get('')?.settings as LdapSettings;
  const zarafa = (value: string): ZarafaSettings =>
    parseConfig(`[store]\ntype = zarafa\nsocket = /run/mysqld/x.sock\nlogin_index = ${value}\n`, F).stores.get('')?.settings as ZarafaSettings;

  test.each([['yes', true], ['true', true], ['on', true], ['1', true], ['Yes', true], ['ON', true],
    ['no', false], ['false', false], ['off', false], ['0', false], ['No', false]])('%s reads as %s in every section', (value, want) => {
    expect(ldap('starttls', value).startTls).toBe(want);
    expect(ldap('tls_verify', value).tlsVerify).toBe(want);
    expect(zarafa(value).loginIndex).toBe(want);
  });
  test('anything else is refused, naming the key', () => {
    expect(() => zarafa('maybe')).toThrow(/\[store\] login_index: "maybe" is not yes or no/);
    expect(() => ldap('starttls', 'si')).toThrow(/\[store\] starttls: "si" is not yes or no/);
  });
  test('the defaults', () => {
    expect(parseConfig('[store]\ntype = zarafa\nsocket = /x.sock\n', F).stores.get('')?.settings).toMatchObject({ loginIndex: true });
    const plain = parseConfig('[store]\ntype = ldap\nuri = ldap://127.0.0.1\nbase = dc=example,dc=org\n', F).stores.get('')?.settings;
    expect(plain).toMatchObject({ startTls: false, tlsVerify: true });
  });
});
