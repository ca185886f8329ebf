// Config loading: every problem names the file, the section and the key. The worker's refusal
// to start on such a config is checked for real in test/integration/worker-config.test.ts.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { loadConfig, parseConfig } from '../../src/stores/registry';

const F = '/etc/pam_mapi.conf';

describe('parsing', () => {
  test('the contract example shape with inline comments', () => {
    const c = parseConfig(`[worker]
socket = /run/x/worker.sock   ; where
socket_mode = 0600
allowed_uids = 0 8            ; root, mail
allowed_groups =              ; none
store_timeout = 2.5

[store]
type = file
path = /etc/pam_mapi/users
disabled_features = imap pop3

[store.local]
type = file
path = /srv/users
disabled_features =
`, F);
    expect(c.worker).toMatchObject({ socket: '/run/x/worker.sock', socketMode: 0o600, allowedUids: [0, 8], allowedGids: [], storeTimeoutMs: 2500 });
    expect(c.stores.get('')).toMatchObject({ type: 'file', settings: { path: '/etc/pam_mapi/users', disabledFeatures: ['imap', 'pop3'] } });
    expect(c.stores.get('local')).toMatchObject({ type: 'file', settings: { path: '/srv/users', disabledFeatures: [] } });
  });

  test('a password "null" is text, not a crash', () => {
    expect(() => parseConfig('[store]\npassword = null\n', F)).toThrow(/\[store\] password: unknown key/);
  });

  test('with only named stores there is no default store (a stanza without store= fails closed)', () => {
    const c = parseConfig('[store.local]\ntype = file\npath = /srv/users\n', F);
    expect([...c.stores.keys()]).toEqual(['local']);
  });

  test('an empty config is the embedded default: a file store', () => {
    const c = parseConfig('', F);
    expect(c.stores.get('')).toMatchObject({ type: 'file', settings: { path: '/etc/pam_mapi/users', disabledFeatures: ['imap', 'pop3'] } });
    expect(c.worker.socket).toBe('/run/pam_mapi/worker.sock');
    expect(c.worker.allowedUids).toEqual([0]);
  });

  test.each([
    ['[worker]\nsokcet = /x\n', /\/etc\/pam_mapi.conf: \[worker\] sokcet: unknown key/],
    ['[store]\ntype = oracle\n', /\[store\] type: "oracle" is not one of file, zarafa, ldap/],
    ['[store.x]\npth = /a\n', /\[store.x\] pth: unknown key/],
    ['[worker]\nstore_timeout = soon\n', /\[worker\] store_timeout: "soon" is not a number of seconds/],
    ['[worker]\nsocket_mode = 0666\n', /\[worker\] socket_mode: a world-writable socket/],
    ['[worker]\nallowed_uids = no-such-user-here\n', /\[worker\] allowed_uids: no such user "no-such-user-here"/],
    ['[wrker]\nx = 1\n', /\[wrker\]: unknown section/],
    ['[store]\npassword = se;cret\n', /pam_mapi.conf:2: password: .*double quotes/],
    ['[store]\npassword = #secret\n', /pam_mapi.conf:2: password: .*double quotes/],
    ['[store.default]\ntype = file\n', /\[store.default\]: "default" names the \[store\] section/],
  ])('%j is refused clearly', (text, message) => {
    expect(() => parseConfig(text, F)).toThrow(message);
  });
});

describe('file permissions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-cfg-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string, mode: number): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    fs.chmodSync(p, mode);
    return p;
  };

  test('a config holding a password and readable by others is refused, like an ssh key', () => {
    // A zarafa store is not in this version; the permission check runs on the text itself.
    const p = write('secret.conf', '[worker]\n', 0o644);
    expect(() => loadConfig(p)).not.toThrow();
    const q = write('secret2.conf', '[store]\npassword = "x"\n', 0o644);
    expect(() => loadConfig(q)).toThrow(/holds a password and is readable by group or others \(mode 0644\).*chmod 600/);
  });
  test('a config writable by others is refused', () => {
    const p = write('open.conf', '[worker]\n', 0o666);
    expect(() => loadConfig(p)).toThrow(/writable by group or others \(mode 0666\)/);
  });
  test('a missing config is an error when named, the defaults when not', () => {
    expect(() => loadConfig(path.join(dir, 'nope.conf'))).toThrow(/cannot read .*nope.conf/);
    expect(loadConfig(path.join(dir, 'nope.conf'), { optional: true }).stores.get('')?.type).toBe('file');
  });
});
