// `server_cfg =` on a Kopano host whose server.cfg says user_plugin = ldap: the store is the
// directory of the server's ldap.cfg, written as Kopano ships it (ldap.cfg including the
// OpenLDAP or Active Directory defaults file, the propmap file), against a private slapd,
// through real libpam, the built module, a real worker and a real saslauthd.
import fs from 'fs';
import path from 'path';
import { Sandbox } from '../../src/sandbox/sandbox';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { freePort } from '../../src/sandbox/ports';
import { checkStores } from '../../src/doctor/checks';
import { loadConfig } from '../../src/stores/registry';
import { MODULE_PATH } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';
import { Saslauthd } from '../helpers/mail/saslauthd';

let slapd: PrivateSlapd;
let box: Sandbox;
let saslauthd: Saslauthd;
let share: string;

const b64 = (v: string): string => Buffer.from(v).toString('base64');

/** Kopano's shipped files, in their format: the ldap.cfg under /etc/kopano names one of the
 * defaults files under /usr/share/kopano and overrides the site's settings after it. */
function writeKopanoShare(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const common = [
    '# Object settings',
    'ldap_object_type_attribute = objectClass',
    'ldap_nonactive_attribute = kopanoSharedStoreOnly',
    'ldap_authentication_method = bind',
    `!propmap ${dir}/ldap.propmap.cfg`,
  ];
  fs.writeFileSync(path.join(dir, 'ldap.openldap.cfg'), [
    ...common,
    // Kopano reads a list: every class must be on the entry.
    'ldap_user_type_attribute_value = posixAccount, inetOrgPerson',
    'ldap_user_search_filter =',
    'ldap_user_unique_attribute = uidNumber',
    'ldap_loginname_attribute = uid',
    '',
  ].join('\n'), { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'ldap.active-directory.cfg'), [
    ...common,
    'ldap_user_type_attribute_value = user',
    'ldap_user_search_filter = (objectCategory=Person)',
    'ldap_user_unique_attribute = objectGUID',
    'ldap_loginname_attribute = sAMAccountName',
    '',
  ].join('\n'), { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'ldap.propmap.cfg'), [
    '# PR_EC_ENABLED_FEATURES',
    '0x67B3101E = kopanoEnabledFeatures',
    '# PR_EC_DISABLED_FEATURES',
    '0x67b4101e = kopanoDisabledFeatures',
    '',
  ].join('\n'), { mode: 0o644 });
}

/** server.cfg and ldap.cfg for one variant; returns the server.cfg path. */
function kopanoHost(name: string, variant: 'openldap' | 'active-directory', ldapLines: string[]): string {
  const ldapCfg = box.file(`${name}-ldap.cfg`, [
    '##############################################################',
    '#  LDAP DIRECTORY USER PLUGIN SETTINGS',
    `!include ${share}/ldap.${variant}.cfg`,
    '',
    ...ldapLines,
    '',
  ].join('\n'), 0o640);
  return box.file(`${name}-server.cfg`, `# server.cfg (excerpt)\nuser_plugin = ldap\nuser_plugin_config = ${ldapCfg}\ndisabled_features = imap\n`, 0o640);
}

const siteLines = (uri: string): string[] => [
  `ldap_uri = ${uri}`,
  'ldap_starttls = no',
  `ldap_bind_user = ${SERVICE_DN}`,
  // Kopano's format takes the rest of the line: ; and # are part of it.
  `ldap_bind_passwd = ${SERVICE_PASSWORD}`,
  `ldap_search_base = ${PEOPLE}`,
];

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  const person = (cn: string, password: string, classes: string[], attrs: Record<string, string>): string => [
    `dn: cn=${cn},${PEOPLE}`, 'objectClass: inetOrgPerson', ...classes.map((c) => `objectClass: ${c}`), `cn: ${cn}`, 'sn: Test',
    `userPassword:: ${b64(password)}`, ...Object.entries(attrs).map(([k, v]) => `${k}: ${v}`), '',
  ].join('\n');
  const posix = (uid: string, n: number): Record<string, string> => ({ uid, uidNumber: String(n), gidNumber: '100', homeDirectory: `/home/${uid}` });
  await slapd.add([
    person('Anna Posix', 'anna-pw', ['posixAccount', 'kopano-user'], posix('anna', 2001)),
    person('Ina Imap', 'ina-pw', ['posixAccount', 'kopano-user'], { ...posix('ina', 2002), kopanoEnabledFeatures: 'imap' }),
    person('Olga Off', 'olga-pw', ['posixAccount', 'kopano-user'], { ...posix('olga', 2004), employeeType: 'true' }),
    person('Zero Active', 'zero-pw', ['posixAccount', 'kopano-user'], { ...posix('zero', 2005), employeeType: '0' }),
    person('Shared Box', 'shared-pw', ['posixAccount', 'kopano-user'], { ...posix('sharedbox', 2003), kopanoSharedStoreOnly: '1' }),
    // Not a posixAccount: Kopano's OpenLDAP filter does not find it.
    person('Nora Noposix', 'nora-pw', [], { uid: 'nora' }),
    person('Jane AD', 'jane-pw', ['user', 'kopano-user'], { sAMAccountName: 'jane', objectCategory: 'Person' }),
    person('Host AD', 'host-pw', ['user'], { sAMAccountName: 'host1', objectCategory: 'Computer' }),
  ].join('\n'));

  box = Sandbox.create();
  share = path.join(box.dir, 'usr-share-kopano');
  writeKopanoShare(share);
  // A site's own non-active attribute, after the include: it overrides the defaults file's.
  const openldap = kopanoHost('openldap', 'openldap', [...siteLines(slapd.ldapUri), 'ldap_nonactive_attribute = employeeType']);
  const ad = kopanoHost('ad', 'active-directory', siteLines(slapd.ldapUri));
  // StartTLS as ldap.cfg asks for it; the CA is pam_mapi's business (Kopano's is ldap.conf's).
  const tls = kopanoHost('tls', 'openldap', [...siteLines(slapd.ldapUri).filter((l) => !l.startsWith('ldap_starttls')), 'ldap_starttls = yes']);
  const config = box.writeConfig([
    `[store]\ntype = zarafa\nserver_cfg = ${openldap}\n`,
    `[store.ad]\ntype = zarafa\nserver_cfg = ${ad}\n`,
    `[store.tls]\ntype = zarafa\nserver_cfg = ${tls}\nca_file = ${slapd.caFile}\n`,
  ].join('\n'));
  const w = box.workerArg;
  for (const [name, args] of [['smtp', ''], ['imap', 'service=imap'], ['ad', 'store=ad'], ['tls', 'store=tls']]) {
    box.service(name, [`auth required {module} ${args} ${w}`, `account required {module} ${args} ${w}`]);
  }
  await box.startWorker(config);
  const svc = path.join(box.dir, 'svc');
  fs.mkdirSync(svc);
  fs.writeFileSync(path.join(svc, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  fs.writeFileSync(path.join(svc, 'smtp'), `auth required ${MODULE_PATH} ${w}\naccount required ${MODULE_PATH} ${w}\n`);
  saslauthd = await Saslauthd.start(box.dir, svc);
}, 60000);

afterAll(async () => {
  await saslauthd?.stop();
  await box?.cleanup();
  await slapd?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password], { account: true })).auth;
const both = async (service: string, user: string, password: string): Promise<[string | undefined, string | undefined]> => {
  const r = await pamRun(box, service, user, [password], { account: true });
  return [r.auth, r.account];
};

describe('OpenLDAP (ldap.openldap.cfg: posixAccount, uid)', () => {
  test('a posixAccount logs in with its password through server_cfg alone; a wrong one does not', async () => {
    expect(await both('smtp', 'anna', 'anna-pw')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(await auth('smtp', 'anna', 'anna-pw!')).toBe('PAM_AUTH_ERR');
  });
  test('the login attribute is ldap_loginname_attribute: another spelling of uid is an unknown user', async () => {
    expect(await auth('smtp', ' anna', 'anna-pw')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', 'Anna Posix', 'anna-pw')).toBe('PAM_USER_UNKNOWN');
  });
  test('the filter is Kopano\'s: every class of ldap_user_type_attribute_value, then the login attribute', () => {
    expect(loadConfig(path.join(box.dir, 'pam_mapi.conf')).stores.get('')?.settings)
      .toMatchObject({ ldap: { filter: '(&(objectClass=posixAccount)(objectClass=inetOrgPerson)(uid=%u))', loginRules: [{ attribute: 'uid' }] } });
  });
  test('an entry that is not a posixAccount is not a user', async () => {
    expect(await auth('smtp', 'nora', 'nora-pw')).toBe('PAM_USER_UNKNOWN');
  });
  test('ldap_nonactive_attribute: a user it marks, and a shared store, do not log in', async () => {
    expect(await both('smtp', 'olga', 'olga-pw')).toEqual(['PAM_PERM_DENIED', undefined]);
    expect(await both('smtp', 'zero', 'zero-pw')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(await both('smtp', 'sharedbox', 'shared-pw')).toEqual(['PAM_PERM_DENIED', undefined]);
  });
  test('features: server.cfg disables imap, the propmap attribute enables it per user', async () => {
    expect(await both('imap', 'anna', 'anna-pw')).toEqual(['PAM_PERM_DENIED', undefined]);
    expect(await both('imap', 'ina', 'ina-pw')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
  });
  test('saslauthd logs in through it', async () => {
    expect(await saslauthd.test('anna', 'anna-pw', 'smtp')).toMatch(/^0: OK/);
    expect(await saslauthd.test('anna', 'wrong', 'smtp')).toMatch(/^0: NO/);
  });
});

describe('Active Directory (ldap.active-directory.cfg: user, sAMAccountName, (objectCategory=Person))', () => {
  test('a Person logs in by sAMAccountName; a computer account is not a user', async () => {
    expect(await both('ad', 'jane', 'jane-pw')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
    expect(await auth('ad', 'jane', 'jane-pw2')).toBe('PAM_AUTH_ERR');
    expect(await auth('ad', 'host1', 'host-pw')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('ad', 'anna', 'anna-pw')).toBe('PAM_USER_UNKNOWN');
  });
});

test('ldap_starttls = yes: StartTLS to the directory', async () => {
  expect(await both('tls', 'anna', 'anna-pw')).toEqual(['PAM_SUCCESS', 'PAM_SUCCESS']);
  expect(loadConfig(path.join(box.dir, 'pam_mapi.conf')).stores.get('tls')?.settings).toMatchObject({ ldap: { startTls: true } });
});

describe('config', () => {
  const conf = (name: string, section: string): string => box.file(`${name}.conf`, section, 0o600);
  test('a directory over the network without ldap_starttls is refused, naming ldap.cfg\'s keys; allow_cleartext accepts it', () => {
    const remote = kopanoHost('remote', 'openldap', siteLines('ldap://ldap.example.org ldaps://ldap2.example.org'));
    const p = conf('remote', `[store]\ntype = zarafa\nserver_cfg = ${remote}\n`);
    expect(() => loadConfig(p)).toThrow(/remote-ldap\.cfg: ldap_uri: ldap:\/\/ldap\.example\.org:389 would carry users' passwords/);
    try {
      loadConfig(p);
    } catch (e) {
      expect((e as { fix?: string }).fix).toMatch(/ldap_starttls = yes/);
    }
    expect(loadConfig(conf('remote-ok', `[store]\ntype = zarafa\nserver_cfg = ${remote}\nallow_cleartext = yes\n`)).stores.get('')?.settings)
      .toMatchObject({ plugin: 'ldap', ldap: { servers: [{ host: 'ldap.example.org' }, { host: 'ldap2.example.org', secure: true }] } });
  });
  test('database keys in the section are refused: there is no database on an LDAP host', () => {
    const host = kopanoHost('dbkeys', 'openldap', siteLines(slapd.ldapUri));
    expect(() => loadConfig(conf('dbkeys', `[store]\ntype = zarafa\nserver_cfg = ${host}\nsocket = /run/x.sock\n`))).toThrow(/socket: .*user_plugin = ldap/);
  });
  test('the bind password is a secret: an ldap.cfg readable by others is refused', () => {
    const host = kopanoHost('open', 'openldap', siteLines(slapd.ldapUri));
    fs.chmodSync(path.join(box.dir, 'open-ldap.cfg'), 0o644);
    expect(() => loadConfig(conf('open', `[store]\ntype = zarafa\nserver_cfg = ${host}\n`))).toThrow(/open-ldap\.cfg holds a password and is readable by group or others/);
  });
  test('the older ldap_host, ldap_port and ldap_protocol make the URI when ldap_uri is not set', () => {
    const host = kopanoHost('oldkeys', 'openldap', [...siteLines('').filter((l) => !l.startsWith('ldap_uri')), 'ldap_host = 127.0.0.1', `ldap_port = ${slapd.ldapPort}`]);
    expect(loadConfig(conf('oldkeys', `[store]\ntype = zarafa\nserver_cfg = ${host}\n`)).stores.get('')?.settings)
      .toMatchObject({ ldap: { servers: [{ host: '127.0.0.1', port: slapd.ldapPort, secure: false }] } });
  });
  test('files that include each other are refused; an included file others may write is refused', () => {
    const a = path.join(box.dir, 'loop-a.cfg');
    box.file('loop-b.cfg', `!include ${a}\n`, 0o644);
    box.file('loop-a.cfg', `!include ${path.join(box.dir, 'loop-b.cfg')}\n`, 0o644);
    const loop = box.file('loop-server.cfg', `user_plugin = ldap\nuser_plugin_config = ${a}\n`, 0o640);
    expect(() => loadConfig(conf('loop', `[store]\ntype = zarafa\nserver_cfg = ${loop}\n`))).toThrow(/!include nested deeper than 8 files/);
    const host = kopanoHost('writable', 'openldap', siteLines(slapd.ldapUri));
    const shared = path.join(box.dir, 'shared-defaults.cfg');
    fs.writeFileSync(shared, 'ldap_loginname_attribute = cn\n', { mode: 0o666 });
    fs.chmodSync(shared, 0o666);
    fs.appendFileSync(path.join(box.dir, 'writable-ldap.cfg'), `!include ${shared}\n`);
    expect(() => loadConfig(conf('writable', `[store]\ntype = zarafa\nserver_cfg = ${host}\n`))).toThrow(/shared-defaults\.cfg .*writable by group or others/);
  });
  test('entry_cache_timeout of the [store] section applies (the LDAP store\'s 5 s otherwise)', () => {
    const host = kopanoHost('reuse', 'openldap', siteLines(slapd.ldapUri));
    expect(loadConfig(conf('reuse-default', `[store]\ntype = zarafa\nserver_cfg = ${host}\n`)).stores.get('')?.settings)
      .toMatchObject({ ldap: { entryCacheTimeoutMs: 5000 } });
    expect(loadConfig(conf('reuse-off', `[store]\ntype = zarafa\nserver_cfg = ${host}\nentry_cache_timeout = 0\n`)).stores.get('')?.settings)
      .toMatchObject({ ldap: { entryCacheTimeoutMs: 0 } });
  });
  test('user_plugin = unix says to stack pam_unix, and why', () => {
    const cfg = box.file('unix-server.cfg', 'user_plugin = unix\n', 0o640);
    expect(() => loadConfig(conf('unix', `[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`))).toThrow(/user_plugin = unix: .*pam_unix\.so.*\/etc\/shadow.*stack pam_unix\.so/);
  });
  test('the doctor shows which file configured what, never the bind password', async () => {
    const rows = await checkStores(loadConfig(path.join(box.dir, 'pam_mapi.conf')));
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    expect(text).toContain(`uri = ${slapd.ldapUri} (ldap_uri, ${path.join(box.dir, 'openldap-ldap.cfg')})`);
    expect(text).toContain(`login_attribute = sAMAccountName (ldap_loginname_attribute, ${share}/ldap.active-directory.cfg)`);
    expect(text).toContain(`enabled_features_attribute = kopanoEnabledFeatures (0x67B3101E, ${share}/ldap.propmap.cfg)`);
    expect(text).toContain(`disabled_features_attribute = kopanoDisabledFeatures (0x67B4101E, ${share}/ldap.propmap.cfg)`);
    expect(text).toContain('bind_password = (set)');
    expect(text).not.toContain(SERVICE_PASSWORD);
    expect(rows.filter((r) => JSON.stringify(r).includes('answered a lookup'))).toHaveLength(3);
  });
});
