// The LDAP directory store against a private slapd, through real libpam, the built module and a
// real worker: the store contract (test/helpers/store-contract.ts), and what only this store
// does: both ways of checking a password, every userPassword scheme, the access rules, Active
// Directory's account flags, TLS and the service connection.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { Client } from 'ldapts';
import { SectionReader } from '../../src/config/section';
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { GROUPS, PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { makeTestPki, TestPki } from '../../src/sandbox/test-ca';
import { LdapStore } from '../../src/stores/ldap/ldap-store';
import { parseLdapSettings } from '../../src/stores/ldap/settings';
import { pamRun } from '../helpers/pam';
import { freePort } from '../../src/sandbox/ports';
import { TcpProxy } from '../helpers/tcp-proxy';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';
import { CONTRACT_USERS, contractServices, storeContract } from '../helpers/store-contract';

const STORE_TIMEOUT_MS = 2000;
const GROUP_DN = `cn=mail,${GROUPS}`;
const HOSTNAME = 'mail.example.org';
const HASH_PASSWORD = 'hash pw €';

/** 100 ns intervals since 1601-01-01, as Active Directory's accountExpires counts. */
function adTime(ms: number): string {
  return (BigInt(ms) * 10_000n + 116_444_736_000_000_000n).toString();
}

/** A userPassword value made by OpenLDAP's own slappasswd: an implementation that is not ours. */
function slappasswd(scheme: string, password: string, cryptFormat?: string): string {
  const args = ['-o', 'module-path=/usr/lib/ldap', '-o', 'module-load=pw-sha2', '-h', scheme, '-s', password];
  if (cryptFormat !== undefined) args.push('-c', cryptFormat);
  return execFileSync('slappasswd', args).toString().trim();
}

interface Person {
  cn: string;
  password: string;
  /** The userPassword value; {SSHA} of password unless given. */
  hash?: string;
  uid?: string | null;
  classes?: string[];
  attrs?: Record<string, string | string[]>;
}

function dnOf(cn: string): string {
  return `cn=${cn.replace(/([,+"\\<>;=])/g, '\\$1')},${PEOPLE}`;
}

function ldif(p: Person): string {
  const b64 = (v: string): string => Buffer.from(v).toString('base64');
  const lines = [`dn:: ${b64(dnOf(p.cn))}`];
  for (const c of ['inetOrgPerson', ...(p.classes ?? ['kopano-user'])]) lines.push(`objectClass: ${c}`);
  lines.push(`cn:: ${b64(p.cn)}`, 'sn: Test');
  const uid = p.uid === undefined ? p.cn : p.uid;
  if (uid !== null) lines.push(`uid:: ${b64(uid)}`);
  lines.push(`userPassword:: ${b64(p.hash ?? slappasswd('{SSHA}', p.password))}`);
  for (const [k, v] of Object.entries(p.attrs ?? {})) for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}:: ${b64(x)}`);
  return lines.join('\n') + '\n';
}

const HASHED: Array<{ login: string; scheme: string; format?: string }> = [
  { login: 'h-ssha', scheme: '{SSHA}' },
  { login: 'h-sha', scheme: '{SHA}' },
  { login: 'h-smd5', scheme: '{SMD5}' },
  { login: 'h-md5', scheme: '{MD5}' },
  { login: 'h-ssha256', scheme: '{SSHA256}' },
  { login: 'h-sha512', scheme: '{SHA512}' },
  { login: 'h-crypt-md5', scheme: '{CRYPT}', format: '$1$%.8s' },
  { login: 'h-crypt-sha256', scheme: '{CRYPT}', format: '$5$%.16s' },
  { login: 'h-crypt-sha512', scheme: '{CRYPT}', format: '$6$%.16s' },
  // Above the cost computed in the worker: the system's crypt(3) checks it.
  { login: 'h-crypt-sha512-slow', scheme: '{CRYPT}', format: '$6$rounds=30000$%.16s' },
  // yescrypt, Debian's default for /etc/shadow.
  { login: 'h-crypt-yescrypt', scheme: '{CRYPT}', format: '$y$j9T$%.16s' },
];

const PEOPLE_LIST = (): Person[] => [
  // The contract's users; a Kopano shared store is the user that may not log on.
  ...CONTRACT_USERS.map((u) => ({
    cn: u.login,
    password: u.password,
    attrs: {
      kopanoAccount: '1',
      ...(u.enabled ? { kopanoEnabledFeatures: u.enabled } : {}),
      ...(u.disabled ? { kopanoDisabledFeatures: u.disabled } : {}),
      ...(u.active === false ? { kopanoSharedStoreOnly: '1' } : {}),
    },
  })),
  { cn: 'contact', password: 'not-an-account', attrs: { kopanoAccount: '0' } },
  { cn: 'shared', password: 'shared-store-pw', attrs: { kopanoAccount: '1', kopanoSharedStoreOnly: '1' } },
  { cn: 'room7', password: 'room-seven-pw', attrs: { kopanoAccount: '1', kopanoResourceType: 'room' } },
  ...HASHED.map((h) => ({ cn: h.login, password: HASH_PASSWORD, hash: slappasswd(h.scheme, HASH_PASSWORD, h.format) })),
  // One login, two entries.
  { cn: 'twin1', uid: 'twin', password: 'twin-pw-1' },
  { cn: 'twin2', uid: 'twin', password: 'twin-pw-1' },
  // Zarafa's attribute names; the Kopano ones say otherwise, to show which ones are read.
  { cn: 'zed', password: 'zed-secret', classes: ['kopano-user', 'zarafa-user'], attrs: { zarafaEnabledFeatures: 'imap', zarafaDisabledFeatures: 'pop3', kopanoEnabledFeatures: 'pop3' } },
  // require_group: member, uniqueMember, memberUid; a DN with characters filters must escape.
  { cn: 'gina', password: 'group-member', attrs: { host: HOSTNAME } },
  { cn: 'hank', password: 'group-unique' },
  { cn: 'ivy', password: 'group-uid' },
  { cn: 'jack', password: 'no-group' },
  { cn: 'Smith, John (ext)', uid: 'smith', password: 'odd-dn' },
  // host_attribute.
  { cn: 'kate', password: 'short-host', attrs: { host: 'MAIL' } },
  { cn: 'leo', password: 'any-host', attrs: { host: ['other.example.org', '*'] } },
  { cn: 'mona', password: 'other-host', attrs: { host: 'other.example.org' } },
  { cn: 'nate', password: 'no-host' },
  // Active Directory-style accounts.
  { cn: 'John Doe', uid: null, password: 'ad-user', classes: ['user'], attrs: { sAMAccountName: 'jdoe', userPrincipalName: 'jdoe@example.org', userAccountControl: '512', accountExpires: '0' } },
  { cn: 'ad-disabled', uid: null, password: 'ad-off', classes: ['user'], attrs: { sAMAccountName: 'adoff', userPrincipalName: 'adoff@example.org', userAccountControl: '514' } },
  { cn: 'ad-expired', uid: null, password: 'ad-old', classes: ['user'], attrs: { sAMAccountName: 'adold', accountExpires: adTime(Date.UTC(2020, 0, 1)) } },
  { cn: 'ad-future', uid: null, password: 'ad-new', classes: ['user'], attrs: { sAMAccountName: 'adnew', accountExpires: adTime(Date.now() + 86_400_000) } },
  { cn: 'ad-never', uid: null, password: 'never-expires-pw', classes: ['user'], attrs: { sAMAccountName: 'adnever', accountExpires: '9223372036854775807' } },
  // The AD attributes count on any directory: a Kopano user disabled the AD way.
  { cn: 'kopano-disabled', password: 'uac-off', attrs: { userAccountControl: '2' }, classes: ['kopano-user', 'user'] },
];

const GROUP_LDIF = `dn: ${GROUP_DN}
objectClass: groupOfNames
objectClass: extensibleObject
cn: mail
member: ${dnOf('gina')}
member: ${dnOf('Smith, John (ext)')}
uniqueMember: ${dnOf('hank')}
memberUid: ivy
`;

let slapd: PrivateSlapd;
let wrongCa: TestPki;
let box: Sandbox;
let worker: WorkerProcess;
let people: Person[];
let proxy: TcpProxy;

/** A [store.NAME] section for slapd, searching as the service account. */
function section(name: string, uri: string, extra = '', secretFile = ''): string {
  const header = name === '' ? '[store]' : `[store.${name}]`;
  return `${header}\ntype = ldap\nuri = ${uri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secretFile}\nbase = ${PEOPLE}\n${extra}\n`;
}

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  people = PEOPLE_LIST();
  await slapd.add(people.map(ldif).join('\n') + '\n' + GROUP_LDIF);
  wrongCa = makeTestPki(path.join(slapd.dir, 'wrong-ca'), 'pam_mapi wrong-ca');
  proxy = await TcpProxy.start(slapd.ldapPort);

  box = Sandbox.create();
  const secret = box.file('ldap.secret', `${SERVICE_PASSWORD}\n`, 0o600);
  const s = (name: string, uri: string, extra = ''): string => section(name, uri, extra, secret);
  const config = box.writeConfig([
    s('', slapd.ldapUri),
    s('nodefaults', slapd.ldapUri, 'disabled_features =\n'),
    // Inline and quoted: the password has ; and #.
    `[store.pw]\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password = "${SERVICE_PASSWORD}"\nbase = ${PEOPLE}\nauth_method = password\n`,
    `[store.anon]\ntype = ldap\nuri = ${slapd.ldapUri}\nbase = ${PEOPLE}\n`,
    s('zarafa', slapd.ldapUri, 'filter = (&(objectClass=zarafa-user)(uid=%u))\nenabled_features_attribute = zarafaEnabledFeatures\ndisabled_features_attribute = zarafaDisabledFeatures\n'),
    s('group', slapd.ldapUri, `require_group = ${GROUP_DN}\n`),
    s('nogroup', slapd.ldapUri, `require_group = cn=missing,${GROUPS}\n`),
    s('hosts', slapd.ldapUri, `host_attribute = host\nhostname = ${HOSTNAME}\n`),
    s('ad', slapd.ldapUri, 'filter = (&(objectClass=user)(|(sAMAccountName=%u)(userPrincipalName=%u)))\n'),
    s('ad-pw', slapd.ldapUri, 'filter = (&(objectClass=user)(|(sAMAccountName=%u)(userPrincipalName=%u)))\nauth_method = password\n'),
    s('ldaps', slapd.ldapsUri, `ca_file = ${slapd.caFile}\n`),
    s('ldaps-wrongca', slapd.ldapsUri, `ca_file = ${wrongCa.caCert}\n`),
    s('ldaps-systemca', slapd.ldapsUri),
    s('ldaps-noverify', slapd.ldapsUri, `ca_file = ${wrongCa.caCert}\ntls_verify = no\n`),
    s('starttls', slapd.ldapUri, `starttls = yes\nca_file = ${slapd.caFile}\n`),
    s('starttls-wrongca', slapd.ldapUri, `starttls = yes\nca_file = ${wrongCa.caCert}\n`),
    s('proxied', `ldap://127.0.0.1:${proxy.port}`),
    s('proxied-pw', `ldap://127.0.0.1:${proxy.port}`, 'auth_method = password\n'),
    // Two URIs to one server, searching under a base that does not exist.
    `[store.wrongbase]\ntype = ldap\nuri = ${slapd.ldapUri} ldap://127.0.0.1:${proxy.port}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ou=nowhere,${PEOPLE}\n`,
  ].join('\n'), `store_timeout = ${STORE_TIMEOUT_MS / 1000}\n`);
  const w = box.workerArg;
  const svc = (name: string, args: string): void => box.service(name, [`auth required {module} ${args} ${w}`, `account required {module} ${args} ${w}`]);
  contractServices(box);
  for (const store of ['pw', 'anon', 'group', 'nogroup', 'hosts', 'ad', 'ad-pw', 'ldaps', 'ldaps-wrongca', 'ldaps-systemca', 'ldaps-noverify', 'starttls', 'starttls-wrongca', 'proxied', 'proxied-pw', 'wrongbase']) svc(store, `store=${store}`);
  svc('zarafa-imap', 'store=zarafa service=imap');
  svc('zarafa-pop3', 'store=zarafa service=pop3');
  worker = await box.startWorker(config);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await proxy?.close();
  await slapd?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;
const account = async (service: string, user: string): Promise<string | undefined> => (await pamRun(box, service, user, [], { accountOnly: true })).account;

test('an LDAP error answer (noSuchObject: a wrong base) is PAM_AUTHINFO_UNAVAIL, not a server outage', async () => {
  expect(await auth('wrongbase', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  expect(await account('wrongbase', 'alice')).toBe('PAM_AUTHINFO_UNAVAIL');
  // The server answered, so neither URI is taken for down and nothing fails over.
  expect(worker.output).not.toMatch(/store.host_down .*store=wrongbase|store=wrongbase .*store.host_down/);
  expect(worker.output).toMatch(/store=wrongbase result=PAM_AUTHINFO_UNAVAIL reason=".*search: NoSuchObjectError, result 32/);
});

describe('auth_method = bind', () => {
  test('every userPassword scheme is checked by the server on bind', async () => {
    for (const h of HASHED) expect([h.login, await auth('smtp', h.login, HASH_PASSWORD)]).toEqual([h.login, 'PAM_SUCCESS']);
  });
  test('anonymous search (no bind_dn) finds users too', async () => {
    expect(await auth('anon', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('anon', 'alice', 'nope')).toBe('PAM_AUTH_ERR');
  });
});

describe('auth_method = password (userPassword compared by the worker)', () => {
  test.each(HASHED)('$login ($scheme): right password succeeds, wrong one is PAM_AUTH_ERR', async (h) => {
    expect(await auth('pw', h.login, HASH_PASSWORD)).toBe('PAM_SUCCESS');
    expect(await auth('pw', h.login, `${HASH_PASSWORD}x`)).toBe('PAM_AUTH_ERR');
    expect(await auth('pw', h.login, HASH_PASSWORD.slice(0, -1))).toBe('PAM_AUTH_ERR');
  });
  test('UTF-8 password against {SSHA}', async () => {
    expect(await auth('pw', 'jürgen', 'pässwörd€ ünd 漢字')).toBe('PAM_SUCCESS');
    expect(await auth('pw', 'jürgen', 'pässwörd€ ünd 漢')).toBe('PAM_AUTH_ERR');
  });
  test('a cleartext userPassword is not compared: PAM_AUTHINFO_UNAVAIL, with the reason logged', async () => {
    await slapd.add(ldif({ cn: 'plain', password: 'plain-text', hash: 'plain-text' }));
    const mark = syslogMark();
    expect(await auth('pw', 'plain', 'plain-text')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark), 'cleartext is not compared')).toHaveLength(1);
  });
});

// crypt(3) itself (every scheme, the vectors, off the event loop): test/integration/system-crypt.test.ts.

describe('empty password', () => {
  test('refused, although this slapd accepts a bind with a DN and an empty password (as anonymous)', async () => {
    const raw = new Client({ url: slapd.ldapUri });
    try {
      await raw.bind(dnOf('alice'), '');
      // The bind "succeeded": the server treats it as anonymous.
      expect((await raw.exop('1.3.6.1.4.1.4203.1.11.3')).value ?? '').toBe('');
    } finally {
      await raw.unbind();
    }
    expect(await auth('pw', 'alice', '')).toBe('PAM_AUTH_ERR');
  });
  test('the store itself refuses it, without binding, when asked directly', async () => {
    const settings = parseLdapSettings(new SectionReader('test', 'store', {
      type: 'ldap', uri: slapd.ldapUri, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, base: PEOPLE,
    }));
    const logs: string[] = [];
    const store = new LdapStore(settings, { log: (_l, event) => logs.push(event), storeTimeoutMs: STORE_TIMEOUT_MS, readFile: (p) => fs.readFileSync(p) });
    try {
      const signal = new AbortController().signal;
      expect(await store.verify('alice', Buffer.alloc(0), signal)).toMatchObject({ found: true, passwordOk: false });
      expect(await store.verify('alice', Buffer.from('wonderland'), signal)).toMatchObject({ found: true, passwordOk: true });
    } finally {
      await store.close();
    }
  });
});

describe('user names are data in the filter, never filter syntax', () => {
  // Through the default store in the contract; here through auth_method = password.
  test.each(['*', ')(uid=*', '\\', 'alice)(|(uid=*', 'alice*', '*)(objectClass=*', 'al*ce', '(uid=alice)'])('%s: PAM_USER_UNKNOWN, even with a real password', async (name) => {
    expect(await auth('pw', name, 'wonderland')).toBe('PAM_USER_UNKNOWN');
  });
});

test('two entries for one login: PAM_USER_UNKNOWN, and a warning naming the count', async () => {
  expect(await auth('smtp', 'twin', 'twin-pw-1')).toBe('PAM_USER_UNKNOWN');
  expect(await account('smtp', 'twin')).toBe('PAM_USER_UNKNOWN');
  expect(worker.output).toMatch(/warning store\.ambiguous_login .*login=twin count=2/);
});

describe('features', () => {
  test('the zarafa* attributes when the section names them', async () => {
    expect(await auth('zarafa-imap', 'zed', 'zed-secret')).toBe('PAM_SUCCESS');
    expect(await auth('zarafa-pop3', 'zed', 'zed-secret')).toBe('PAM_PERM_DENIED');
    // The default section reads the kopano* attributes of the same entry, which say the opposite.
    expect(await auth('imap', 'zed', 'zed-secret')).toBe('PAM_PERM_DENIED');
    expect(await auth('pop3', 'zed', 'zed-secret')).toBe('PAM_SUCCESS');
    // The zarafa section's filter wants objectClass zarafa-user.
    expect(await auth('zarafa-imap', 'bob', 'builder')).toBe('PAM_USER_UNKNOWN');
  });
  test('kopanoAccount: 0 is not an account: PAM_PERM_DENIED', async () => {
    expect(await auth('smtp', 'contact', 'not-an-account')).toBe('PAM_PERM_DENIED');
    expect(await account('smtp', 'contact')).toBe('PAM_PERM_DENIED');
  });
  test('a shared store (non-active user) and a room never log on: PAM_PERM_DENIED, as in the database store', async () => {
    expect(await auth('smtp', 'shared', 'shared-store-pw')).toBe('PAM_PERM_DENIED');
    expect(await account('smtp', 'shared')).toBe('PAM_PERM_DENIED');
    expect(await auth('smtp', 'room7', 'room-seven-pw')).toBe('PAM_PERM_DENIED');
    expect(await auth('smtp', 'room7', 'not-its-pw')).toBe('PAM_AUTH_ERR');
  });
});

describe('require_group', () => {
  test('members by member, uniqueMember and memberUid pass, auth and account', async () => {
    for (const [user, pw] of [['gina', 'group-member'], ['hank', 'group-unique'], ['ivy', 'group-uid'], ['IVY', 'group-uid'], ['smith', 'odd-dn']]) {
      expect([user, await auth('group', user, pw), await account('group', user)]).toEqual([user, 'PAM_SUCCESS', 'PAM_SUCCESS']);
    }
  });
  test('a non-member: PAM_PERM_DENIED with the right password, PAM_AUTH_ERR with a wrong one', async () => {
    expect(await auth('group', 'jack', 'no-group')).toBe('PAM_PERM_DENIED');
    expect(await account('group', 'jack')).toBe('PAM_PERM_DENIED');
    expect(await auth('group', 'jack', 'wrong')).toBe('PAM_AUTH_ERR');
    expect(worker.output).toMatch(/store\.access_denied .*login=jack rule=require_group/);
  });
  test('a group DN that does not exist: PAM_AUTHINFO_UNAVAIL, never success', async () => {
    expect(await auth('nogroup', 'gina', 'group-member')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await account('nogroup', 'gina')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
});

describe('host_attribute', () => {
  test('this host by full or short name, or *: admitted, auth and account', async () => {
    for (const [user, pw] of [['gina', 'group-member'], ['kate', 'short-host'], ['leo', 'any-host']]) {
      expect([user, await auth('hosts', user, pw), await account('hosts', user)]).toEqual([user, 'PAM_SUCCESS', 'PAM_SUCCESS']);
    }
  });
  test('another host, or none listed: PAM_PERM_DENIED, auth and account', async () => {
    for (const [user, pw] of [['mona', 'other-host'], ['nate', 'no-host']]) {
      expect([user, await auth('hosts', user, pw), await account('hosts', user)]).toEqual([user, 'PAM_PERM_DENIED', 'PAM_PERM_DENIED']);
    }
    expect(await auth('hosts', 'mona', 'wrong')).toBe('PAM_AUTH_ERR');
  });
});

describe('Active Directory-style accounts', () => {
  test('sAMAccountName and userPrincipalName logins, both auth methods', async () => {
    for (const service of ['ad', 'ad-pw']) {
      expect(await auth(service, 'jdoe', 'ad-user')).toBe('PAM_SUCCESS');
      expect(await auth(service, 'JDoe', 'ad-user')).toBe('PAM_SUCCESS');
      expect(await auth(service, 'jdoe@example.org', 'ad-user')).toBe('PAM_SUCCESS');
      expect(await auth(service, 'jdoe@example.org', 'wrong')).toBe('PAM_AUTH_ERR');
      expect(await auth(service, 'jdoe@example.com', 'ad-user')).toBe('PAM_USER_UNKNOWN');
    }
    expect(await account('ad', 'jdoe@example.org')).toBe('PAM_SUCCESS');
  });
  test('userAccountControl ACCOUNTDISABLE: PAM_PERM_DENIED, auth and account', async () => {
    expect(await auth('ad', 'adoff', 'ad-off')).toBe('PAM_PERM_DENIED');
    expect(await auth('ad', 'adoff@example.org', 'ad-off')).toBe('PAM_PERM_DENIED');
    expect(await account('ad', 'adoff')).toBe('PAM_PERM_DENIED');
    expect(await auth('ad', 'adoff', 'wrong')).toBe('PAM_AUTH_ERR');
    // Read on any directory: a Kopano user with the bit set.
    expect(await auth('smtp', 'kopano-disabled', 'uac-off')).toBe('PAM_PERM_DENIED');
  });
  test('accountExpires in the past: PAM_ACCT_EXPIRED; in the future or never: success', async () => {
    expect(await auth('ad', 'adold', 'ad-old')).toBe('PAM_ACCT_EXPIRED');
    expect(await account('ad', 'adold')).toBe('PAM_ACCT_EXPIRED');
    expect(await auth('ad', 'adold', 'wrong')).toBe('PAM_AUTH_ERR');
    expect(await auth('ad', 'adnew', 'ad-new')).toBe('PAM_SUCCESS');
    expect(await auth('ad', 'adnever', 'never-expires-pw')).toBe('PAM_SUCCESS');
    expect(await auth('ad', 'jdoe', 'ad-user')).toBe('PAM_SUCCESS'); // accountExpires: 0
  });
});

describe('TLS', () => {
  test('ldaps:// with the CA that signed the server: success', async () => {
    expect((await pamRun(box, 'ldaps', 'alice', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
    expect(await auth('ldaps', 'alice', 'nope')).toBe('PAM_AUTH_ERR');
  });
  test('ldaps:// with another CA, or the system CAs: PAM_AUTHINFO_UNAVAIL, the cause logged', async () => {
    expect(await auth('ldaps-wrongca', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await account('ldaps-wrongca', 'alice')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(await auth('ldaps-systemca', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(worker.output).toMatch(new RegExp(`store\\.host_down .*store=ldaps-wrongca .*${slapd.ldapsUri}.*(certificate|self.signed|issuer)`, 'i'));
  });
  test('tls_verify = no accepts any certificate (and says so in the log)', async () => {
    expect(await auth('ldaps-noverify', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(worker.output).toMatch(/warning store\.tls_unverified .*store=ldaps-noverify/);
  });
  test('StartTLS with the right CA: success; with another CA: PAM_AUTHINFO_UNAVAIL', async () => {
    expect((await pamRun(box, 'starttls', 'alice', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
    expect(await auth('starttls', 'bob', 'builder')).toBe('PAM_SUCCESS');
    expect(await auth('starttls-wrongca', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
});

describe('the service connection', () => {
  test('one connection serves every search; user binds reuse a kept bind-only connection', async () => {
    // Through a relay that counts connections; these two stores have not been used yet.
    const first = proxy.accepted;
    for (let i = 0; i < 5; i++) expect(await auth('proxied-pw', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('proxied-pw', 'alice', 'wrong')).toBe('PAM_AUTH_ERR');
    expect(await account('proxied-pw', 'bob')).toBe('PAM_SUCCESS');
    expect(proxy.accepted - first).toBe(1);
    const second = proxy.accepted;
    for (let i = 0; i < 5; i++) expect(await auth('proxied', 'alice', i % 2 === 0 ? 'wonderland' : 'wrong')).toBe(i % 2 === 0 ? 'PAM_SUCCESS' : 'PAM_AUTH_ERR');
    // One service connection, and one connection for all five binds (right and wrong ones).
    expect(proxy.accepted - second).toBe(1 + 1);
    expect(proxy.open).toBe(3);
    // The kept bind connection closed by the server while idle: replaced, without an error.
    proxy.dropAll();
    await new Promise((r) => setTimeout(r, 100));
    expect(await auth('proxied', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('proxied', 'alice', 'wrong')).toBe('PAM_AUTH_ERR');
  });
  test('closed by the server while idle: the next request opens a new one, without an error', async () => {
    expect(await auth('proxied-pw', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    const accepted = proxy.accepted;
    proxy.dropAll();
    await new Promise((r) => setTimeout(r, 100));
    expect(await auth('proxied-pw', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(proxy.accepted - accepted).toBe(1);
  });
  test('closed just as a request uses it: that request gets one new connection and succeeds', async () => {
    expect(await auth('proxied-pw', 'bob', 'builder')).toBe('PAM_SUCCESS');
    const dropped = proxy.dropped;
    proxy.dropOnNextData();
    expect(await auth('proxied-pw', 'bob', 'builder')).toBe('PAM_SUCCESS');
    expect(proxy.dropped - dropped).toBe(1);
    expect(worker.output).not.toMatch(/store\.host_down store=proxied-pw/);
  });
});

test('32 concurrent transactions, both auth methods, right and wrong passwords: every answer right', async () => {
  const cases = people.filter((p) => ['alice', 'bob', 'carol', 'eve', 'h-ssha', 'h-crypt-sha512', 'h-md5', 'gina'].includes(p.cn));
  const runs = Array.from({ length: 32 }, (_, i) => {
    const p = cases[i % cases.length];
    const right = i % 3 !== 0;
    const service = i % 2 === 0 ? 'smtp' : 'pw';
    return pamRun(box, service, p.cn, [right ? p.password : `${p.password}-wrong`]).then((r) => [p.cn, service, r.auth, right ? 'PAM_SUCCESS' : 'PAM_AUTH_ERR']);
  });
  for (const [who, service, got, want] of await Promise.all(runs)) expect([who, service, got]).toEqual([who, service, want]);
});

storeContract(() => ({
  box,
  worker,
  secrets: [SERVICE_PASSWORD, HASH_PASSWORD, ...people.map((p) => p.password)],
  secretFile: {
    section: (file) => section('', slapd.ldapUri, '', file),
    refusal: /bind password file .*store.secret holds a password and is readable by group or others/,
  },
  server: {
    handle: slapd,
    downLog: 'no directory server could answer',
    downDetail: new RegExp(slapd.ldapUri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    downWithinMs: STORE_TIMEOUT_MS,
    pausedWithinMs: STORE_TIMEOUT_MS + 1500,
    alsoDown: ['pw'],
    startPair: async () => {
      const first = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
      const second = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
      await first.add(ldif({ cn: 'whereami', password: 'on-first' }));
      await second.add(ldif({ cn: 'whereami', password: 'on-second' }));
      const secret = path.join(first.dir, 'ldap.secret');
      fs.writeFileSync(secret, `${SERVICE_PASSWORD}\n`, { mode: 0o600 });
      return {
        section: section('', `${first.ldapUri} ${second.ldapUri}`, '', secret),
        first,
        firstLabel: first.ldapUri,
        destroy: async () => {
          await first.destroy();
          await second.destroy();
        },
      };
    },
  },
}), { server: true, secretFile: true });

describe('config checks', () => {
  const refused = async (sectionText: string, why: RegExp): Promise<void> => {
    const b = Sandbox.create();
    try {
      await expect(b.startWorker(b.writeConfig(sectionText))).rejects.toThrow(why);
    } finally {
      await b.cleanup();
    }
  };
  test('a filter without %u, StartTLS on ldaps://, a bind_dn without password, a bad URI', async () => {
    const base = `[store]\ntype = ldap\nbase = ${PEOPLE}\n`;
    await refused(`${base}uri = ${slapd.ldapUri}\nfilter = (uid=alice)\n`, /filter: .*has no %u/);
    await refused(`${base}uri = ${slapd.ldapsUri}\nstarttls = yes\n`, /starttls: StartTLS is for ldap:\/\/ URIs/);
    await refused(`${base}uri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\n`, /bind_dn: needs bind_password/);
    await refused(`${base}uri = http://127.0.0.1/\n`, /uri: \\?"http:\/\/127.0.0.1\/\\?" is not an ldap:\/\/ or ldaps:\/\/ URI/);
    await refused(`${base}uri = ${slapd.ldapUri}\nfilter = (&(uid=%u)\n`, /filter: .*is not an LDAP filter/);
  });
});
