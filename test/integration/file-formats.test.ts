// The file store reads the files admins have: Apache's htpasswd and htdigest files made by
// Apache's own tools, Dovecot passwd-files with `doveadm pw` values, Momentum-style plain
// files; through real libpam, the built module and a real worker. For each scheme the right
// password logs in and a wrong one does not. A malformed line in the file the worker starts
// with is a config error naming the line; one that appears later is an error for its user only.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { checkStores } from '../../src/doctor/checks';
import { Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { apr1 } from '../../src/stores/file/apr1';
import { FileStore, parseFileStoreSettings } from '../../src/stores/file/file-store';
import * as secrets from '../../src/stores/file/secrets';
import { SectionReader } from '../../src/config/section';
import { loadConfig } from '../../src/stores/registry';
import { pamRun } from '../helpers/pam';

let box: Sandbox;

/** htpasswd -b adds USER with PASSWORD to FILE with the given scheme flag. */
function htpasswd(file: string, flag: string, user: string, password: string): void {
  recordSecret(password);
  execFileSync('htpasswd', ['-b', ...(flag === '-B' ? ['-B', '-C', '5'] : [flag]), ...(fs.existsSync(file) ? [] : ['-c']), file, user, password], { stdio: 'ignore' });
}

/** htdigest reads the password twice from the terminal, or from stdin without one (setsid). */
function htdigest(file: string, realm: string, user: string, password: string): void {
  recordSecret(password);
  execFileSync('setsid', ['htdigest', ...(fs.existsSync(file) ? [] : ['-c']), file, realm, user], { input: `${password}\n${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
}

/** Dovecot's own encoding of PASSWORD in SCHEME, with its {SCHEME} prefix. */
function doveadm(scheme: string, password: string): string {
  recordSecret(password);
  return execFileSync('doveadm', ['pw', '-s', scheme, '-p', password]).toString().trim();
}

const HTPASSWD: Array<{ user: string; flag: string; password: string; prefix: RegExp }> = [
  { user: 'h-bcrypt', flag: '-B', password: 'bcrypt pw 1', prefix: /^\$2y\$05\$/ },
  { user: 'h-apr1', flag: '-m', password: 'apr1 pw ü', prefix: /^\$apr1\$/ },
  { user: 'h-sha', flag: '-s', password: 'sha1 pw', prefix: /^\{SHA\}/ },
  { user: 'h-sha256', flag: '-2', password: 'sha256crypt pw', prefix: /^\$5\$/ },
  { user: 'h-sha512', flag: '-5', password: 'sha512crypt pw', prefix: /^\$6\$/ },
  // DES-crypt reads 8 characters.
  { user: 'h-des', flag: '-d', password: 'desPw#12', prefix: /^[./0-9A-Za-z]{13}$/ },
];

const DOVECOT: Array<{ user: string; scheme: string; password: string }> = [
  { user: 'd-sha512crypt', scheme: 'SHA512-CRYPT', password: 'dove sha512crypt' },
  { user: 'd-sha256crypt', scheme: 'SHA256-CRYPT', password: 'dove sha256crypt' },
  { user: 'd-blf', scheme: 'BLF-CRYPT', password: 'dove blowfish' },
  { user: 'd-md5crypt', scheme: 'MD5-CRYPT', password: 'dove md5crypt' },
  { user: 'd-ssha512', scheme: 'SSHA512', password: 'dove ssha512' },
  { user: 'd-ssha256', scheme: 'SSHA256', password: 'dove ssha256' },
  { user: 'd-ssha', scheme: 'SSHA', password: 'dove ssha' },
  { user: 'd-sha', scheme: 'SHA', password: 'dove sha' },
  { user: 'd-sha256', scheme: 'SHA256', password: 'dove sha256' },
  { user: 'd-plainmd5', scheme: 'PLAIN-MD5', password: 'dove plain md5' },
  { user: 'd-smd5', scheme: 'SMD5', password: 'dove smd5' },
  { user: 'd-argon2id', scheme: 'ARGON2ID', password: 'dove argon2id' },
  { user: 'd-argon2i', scheme: 'ARGON2I', password: 'dove argon2i' },
];

let htFile: string;
/** The htpasswd file as the worker started with it, before the broken lines. */
let htClean: string;

beforeAll(async () => {
  box = Sandbox.create();
  htFile = path.join(box.dir, 'htpasswd');
  for (const h of HTPASSWD) htpasswd(htFile, h.flag, h.user, h.password);
  fs.chmodSync(htFile, 0o644);
  htClean = box.file('htpasswd-clean', fs.readFileSync(htFile, 'utf8'), 0o644);

  const hdFile = path.join(box.dir, 'htdigest');
  htdigest(hdFile, 'Mail Realm', 'dana', 'digest pw 1');
  htdigest(hdFile, 'Mail Realm', 'Erik', 'digest pw 2');
  // The same name in another realm is not this store's user.
  htdigest(hdFile, 'Web Realm', 'frank', 'web pw');
  fs.chmodSync(hdFile, 0o644);

  const dvLines = DOVECOT.map((d) => `${d.user}:${doveadm(d.scheme, d.password)}:1000:1000::/home/${d.user}::`);
  dvLines.push(
    // Dovecot's default scheme for a passwd-file without a prefix is CRYPT.
    `d-bare:${doveadm('SHA512-CRYPT', 'dove bare').replace(/^\{[^}]*\}/, '')}`,
    `d-nologin:${doveadm('SSHA512', 'dove nologin')}:1000:1000::/home/x::nologin`,
  );
  const dvFile = box.file('passwd-file', dvLines.join('\n') + '\n', 0o600);
  const dvPlainFile = box.file('passwd-file-plain', `d-plain:${doveadm('PLAIN', 'dove plain pw')}:::::\n`, 0o600);
  const plainFile = box.file('plain', 'pat:pat plain pw\nquinn:with:colons\n', 0o600);
  recordSecret('pat plain pw');
  recordSecret('dove plain pw');

  const config = box.writeConfig([
    `[store]\ntype = file\nformat = htpasswd\npath = ${htFile}\n`,
    `[store.digest]\ntype = file\nformat = htdigest\nrealm = Mail Realm\npath = ${hdFile}\n`,
    `[store.dovecot]\ntype = file\nformat = dovecot\npath = ${dvFile}\n`,
    `[store.dovecot-plain]\ntype = file\nformat = dovecot\nallow_plaintext = yes\npath = ${dvPlainFile}\n`,
    `[store.plain]\ntype = file\nformat = plain\nallow_plaintext = yes\npath = ${plainFile}\n`,
  ].join('\n'));
  for (const name of ['smtp', 'digest', 'dovecot', 'dovecot-plain', 'plain']) {
    const store = name === 'smtp' ? '' : `store=${name}`;
    box.service(name, [`auth required {module} ${store} ${box.workerArg}`, `account required {module} ${store} ${box.workerArg}`]);
  }
  await box.startWorker(config);

  // Lines that go wrong after the start: each is an error for its own user only.
  // A plain-text line (htpasswd -p) and a hash htpasswd never makes.
  htpasswd(htFile, '-p', 'h-plain', 'plain-as-typed');
  fs.appendFileSync(htFile, 'h-broken:$apr1$short\n');
  fs.appendFileSync(hdFile, 'gus:Mail Realm:not-hex\n');
  fs.appendFileSync(dvFile, [
    `d-plain:${doveadm('PLAIN', 'dove plain pw')}:::::`,
    `d-nets:${doveadm('SSHA512', 'dove nets')}:1000:1000::/home/x::allow_nets=10.0.0.0/8`,
    'd-malformed:{SSHA512}!!!not base64',
    'd-unknown:{CRAM-MD5}0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '',
  ].join('\n'));
  // The store looks at its file at most once a second.
  await new Promise((r) => setTimeout(r, 1100));
}, 60000);

afterAll(async () => {
  await box?.cleanup();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;

describe('htpasswd (Apache\'s htpasswd)', () => {
  test.each(HTPASSWD)('$user ($flag): right password in, wrong out', async (h) => {
    expect(fs.readFileSync(htFile, 'utf8')).toMatch(new RegExp(`^${h.user}:${h.prefix.source.replace(/^\^/, '')}`, 'm'));
    expect(await auth('smtp', h.user, h.password)).toBe('PAM_SUCCESS');
    expect(await auth('smtp', h.user, `${h.password.slice(0, -1)}x`)).toBe('PAM_AUTH_ERR');
  });
  test('a plain-text line (htpasswd -p) and a malformed hash are errors for their users only', async () => {
    expect(await auth('smtp', 'h-plain', 'plain-as-typed')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('smtp', 'h-broken', 'anything')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('smtp', 'h-bcrypt', 'bcrypt pw 1')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'nobody', 'bcrypt pw 1')).toBe('PAM_USER_UNKNOWN');
  });
  test('$apr1$ agrees with Apache\'s htpasswd and OpenSSL for every password length', () => {
    for (const n of [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100]) {
      const pw = 'pässwörd-'.repeat(12).slice(0, n);
      const fromHtpasswd = execFileSync('htpasswd', ['-nbm', 'u', pw]).toString().trim().slice(2);
      expect([n, apr1(Buffer.from(pw), fromHtpasswd)]).toEqual([n, fromHtpasswd]);
      const fromOpenssl = execFileSync('openssl', ['passwd', '-apr1', '-salt', 'Ab.9/xyz', '-stdin'], { input: Buffer.from(pw) }).toString().trim();
      if (n > 0) expect([n, apr1(Buffer.from(pw), fromOpenssl)]).toEqual([n, fromOpenssl]);
    }
  });
});

describe('htdigest (Apache\'s htdigest), realm = Mail Realm', () => {
  test('right password in, wrong out; the login is matched without regard to case', async () => {
    expect(await auth('digest', 'dana', 'digest pw 1')).toBe('PAM_SUCCESS');
    expect(await auth('digest', 'dana', 'digest pw 2')).toBe('PAM_AUTH_ERR');
    expect(await auth('digest', 'erik', 'digest pw 2')).toBe('PAM_SUCCESS');
  });
  test('a user of another realm is unknown; a malformed line is an error for its user only', async () => {
    expect(await auth('digest', 'frank', 'web pw')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('digest', 'gus', 'x')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
});

describe('Dovecot passwd-file (doveadm pw)', () => {
  test.each(DOVECOT)('$user {$scheme}: right password in, wrong out', async (d) => {
    expect(await auth('dovecot', d.user, d.password)).toBe('PAM_SUCCESS');
    expect(await auth('dovecot', d.user, `${d.password}!`)).toBe('PAM_AUTH_ERR');
  });
  test('no {SCHEME}: a crypt(3) string, as Dovecot reads it', async () => {
    expect(await auth('dovecot', 'd-bare', 'dove bare')).toBe('PAM_SUCCESS');
    expect(await auth('dovecot', 'd-bare', 'dove bar')).toBe('PAM_AUTH_ERR');
  });
  test('a file with a malformed line is a config error at start, naming the line', () => {
    const bad = box.file('passwd-file-bad', `ok:${doveadm('SSHA512', 'dove ok')}\nbad:{SSHA512}!!!\n`, 0o600);
    const config = loadConfig(box.file('bad.conf', `[store]\ntype = file\nformat = dovecot\npath = ${bad}\n`, 0o600));
    expect(() => config.stores.get('')?.open({ log: () => undefined, storeTimeoutMs: 1000, readFile: (p) => fs.readFileSync(p) })).toThrow(/passwd-file-bad:2: a malformed \{SSHA512\} value/);
  });
  test('{PLAIN} only with allow_plaintext = yes; otherwise an error for that user only', async () => {
    expect(await auth('dovecot', 'd-plain', 'dove plain pw')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('dovecot-plain', 'd-plain', 'dove plain pw')).toBe('PAM_SUCCESS');
    expect(await auth('dovecot-plain', 'd-plain', 'dove plain p')).toBe('PAM_AUTH_ERR');
  });
  test('extra fields: nologin refuses the account; allow_nets, which the store cannot apply, is an error', async () => {
    expect(await auth('dovecot', 'd-nologin', 'dove nologin')).toBe('PAM_PERM_DENIED');
    expect(await auth('dovecot', 'd-nets', 'dove nets')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
  test('a malformed value and an unknown scheme are errors for their users only', async () => {
    expect(await auth('dovecot', 'd-malformed', 'x')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('dovecot', 'd-unknown', 'x')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('dovecot', 'd-ssha512', 'dove ssha512')).toBe('PAM_SUCCESS');
  });
});

describe('plain (user:password)', () => {
  test('logs in with allow_plaintext = yes; the password may hold colons', async () => {
    expect(await auth('plain', 'pat', 'pat plain pw')).toBe('PAM_SUCCESS');
    expect(await auth('plain', 'pat', 'pat plain')).toBe('PAM_AUTH_ERR');
    expect(await auth('plain', 'quinn', 'with:colons')).toBe('PAM_SUCCESS');
  });
  test('refused without allow_plaintext; a plain file readable by others is refused; the doctor warns', async () => {
    const plainFile = path.join(box.dir, 'plain');
    const conf = (name: string, text: string): string => box.file(name, text, 0o600);
    expect(() => loadConfig(conf('p1.conf', `[store]\ntype = file\nformat = plain\npath = ${plainFile}\n`))).toThrow(/format: plain holds passwords as they are typed.*allow_plaintext = yes/);
    const open = box.file('plain-open', 'pat:pat plain pw\n', 0o644);
    const config = loadConfig(conf('p2.conf', `[store]\ntype = file\nformat = plain\nallow_plaintext = yes\npath = ${open}\n`));
    const rows = await checkStores(config);
    expect(JSON.stringify(rows)).toMatch(/plain-open holds a password and is readable by group or others/);
    const ok = await checkStores(loadConfig(conf('p3.conf', `[store]\ntype = file\nformat = plain\nallow_plaintext = yes\npath = ${plainFile}\n`)));
    expect(JSON.stringify(ok)).toMatch(/"status":"WARN","detail":"store.plaintext_allowed: allow_plaintext = yes/);
  });
  test('htdigest needs its realm', () => {
    expect(() => loadConfig(box.file('p4.conf', `[store]\ntype = file\nformat = htdigest\npath = ${htFile}\n`, 0o600))).toThrow(/realm: is required with format = htdigest/);
  });
});

test('an unknown name costs a check of the first user\'s hash, so its refusal takes as long as a wrong password', async () => {
  const settings = parseFileStoreSettings(new SectionReader('test', 'store', { type: 'file', format: 'htpasswd', path: htClean }));
  const store = new FileStore(settings);
  const spy = jest.spyOn(secrets, 'verifySecret');
  try {
    const signal = new AbortController().signal;
    expect(await store.verify('nobody', Buffer.from('guess'), signal)).toEqual({ found: false });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][0]).toMatchObject({ kind: 'crypt', hash: expect.stringMatching(/^\$2y\$05\$/) });
  } finally {
    spy.mockRestore();
    await store.close();
  }
});
