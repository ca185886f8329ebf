// The ldap store with auth_method = kerberos, against a private slapd and a private MIT KDC
// together, through real libpam, the built module and a real worker: the directory says who the
// user is and whether they may log on (its flags, require_group, host_attribute), the KDC checks
// the password, and the ticket is validated against the keytab. Every entry's userPassword is
// another password than its principal's, so a success proves the KDC checked it.
import fs from 'fs';
import path from 'path';
import { spawnSync } from 'child_process';
import { checkStores } from '../../src/doctor/checks';
import { PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { REPO_ROOT, Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { GROUPS, PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { parseConfig } from '../../src/stores/registry';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const STORE_TIMEOUT_MS = 2000;
const GROUP_DN = `cn=mail,${GROUPS}`;
const HOSTNAME = 'mail.example.test';
const SPOOFED = 'spoofer-knows-this';
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');

/** 100 ns intervals since 1601-01-01, as Active Directory's accountExpires counts. */
const adTime = (ms: number): string => (BigInt(ms) * 10_000n + 116_444_736_000_000_000n).toString();

interface Person {
  uid: string;
  /** The entry's userPassword: never the principal's password. */
  ldapPassword: string;
  attrs?: Record<string, string | string[]>;
}

const PEOPLE_LIST: Person[] = [
  { uid: 'alice', ldapPassword: 'ldap-alice-pw' },
  // Disabled and expired the Active Directory way; their principals are fine.
  { uid: 'dis', ldapPassword: 'ldap-dis-pw', attrs: { userAccountControl: '514' } },
  { uid: 'old', ldapPassword: 'ldap-old-pw', attrs: { accountExpires: adTime(Date.UTC(2020, 0, 1)) } },
  { uid: 'gina', ldapPassword: 'ldap-gina-pw' },
  { uid: 'jack', ldapPassword: 'ldap-jack-pw' },
  { uid: 'kate', ldapPassword: 'ldap-kate-pw', attrs: { host: 'MAIL' } },
  { uid: 'mona', ldapPassword: 'ldap-mona-pw', attrs: { host: 'other.example.org' } },
  // Its login is jdoe; its principal is the user principal name john.doe@example.test.
  { uid: 'jdoe', ldapPassword: 'ldap-jdoe-pw', attrs: { userPrincipalName: 'john.doe@example.test' } },
  { uid: 'twoupn', ldapPassword: 'ldap-twoupn-pw', attrs: { description: ['alice', 'twoupn'] } },
  // In the directory only.
  { uid: 'nokrb', ldapPassword: 'ldap-nokrb-pw' },
  // In both; the KDC disabled the principal, or its password expired.
  { uid: 'krbdis', ldapPassword: 'ldap-krbdis-pw' },
  { uid: 'stale', ldapPassword: 'ldap-stale-pw' },
];

const PRINCIPALS = [
  { name: 'alice', password: 'krb-alice-pw' },
  { name: 'dis', password: 'krb-dis-pw' },
  { name: 'old', password: 'krb-old-pw' },
  { name: 'gina', password: 'krb-gina-pw' },
  { name: 'jack', password: 'krb-jack-pw' },
  { name: 'kate', password: 'krb-kate-pw' },
  { name: 'mona', password: 'krb-mona-pw' },
  { name: 'john.doe@example.test', password: 'krb-upn-pw' },
  // A principal jdoe of its own, with another password: the UPN mapping must not reach it.
  { name: 'jdoe', password: 'krb-jdoe-plain-pw' },
  { name: 'twoupn', password: 'krb-twoupn-pw' },
  // Someone else than alice, whose name differs from hers only in case.
  { name: 'ALICE', password: 'krb-upper-pw' },
  // The KDC knows ghost, the directory does not.
  { name: 'ghost', password: 'krb-ghost-pw' },
  { name: 'krbdis', password: 'krb-krbdis-pw', options: ['-allow_tix'] },
  { name: 'stale', password: 'krb-stale-pw', options: ['-pwexpire', '2001-01-01'] },
];

function ldif(p: Person): string {
  const b64 = (v: string): string => Buffer.from(v).toString('base64');
  const lines = [`dn: uid=${p.uid},${PEOPLE}`, 'objectClass: inetOrgPerson', 'objectClass: kopano-user', 'objectClass: user',
    `uid: ${p.uid}`, `cn: ${p.uid}`, 'sn: Test', 'kopanoAccount: 1', `userPassword:: ${b64(p.ldapPassword)}`];
  for (const [k, v] of Object.entries(p.attrs ?? {})) for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}:: ${b64(x)}`);
  return lines.join('\n') + '\n';
}

const GROUP_LDIF = `dn: ${GROUP_DN}\nobjectClass: groupOfNames\ncn: mail\nmember: uid=gina,${PEOPLE}\n`;

let slapd: PrivateSlapd;
let kdc: PrivateKdc;
let spoofer: PrivateKdc;
let box: Sandbox;
let worker: WorkerProcess;
let secret: string;

/** A [store.NAME] ldap section for slapd whose passwords the KDC checks. */
function section(name: string, extra = '', kdcs = kdc.address, keytab = kdc.keytabFile): string {
  const header = name === '' ? '[store]' : `[store.${name}]`;
  return `${header}\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\nfilter = (&(objectClass=kopano-user)(uid=%u))\n`
    + `auth_method = kerberos\nkrb5_realm = ${TEST_REALM}\nkrb5_kdc = ${kdcs}\nkrb5_keytab = ${keytab}\n${extra}\n`;
}

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  await slapd.add(PEOPLE_LIST.map(ldif).join('\n') + '\n' + GROUP_LDIF);
  kdc = await PrivateKdc.start({ port: await freePort(), principals: PRINCIPALS });
  // Another KDC of the same realm, with its own keys, that knows alice with another password.
  spoofer = await PrivateKdc.start({ port: await freePort(), principals: [{ name: 'alice', password: SPOOFED }] });

  box = Sandbox.create();
  secret = box.file('ldap.secret', `${SERVICE_PASSWORD}\n`, 0o600);
  const config = box.writeConfig([
    section(''),
    `[store.bind]\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\nfilter = (&(objectClass=kopano-user)(uid=%u))\n`,
    section('group', `require_group = ${GROUP_DN}\n`),
    section('hosts', `host_attribute = host\nhostname = ${HOSTNAME}\n`),
    section('upn', 'krb5_principal_attribute = userPrincipalName\nkrb5_principal = enterprise\n'),
    section('desc', 'krb5_principal_attribute = description\n'),
    section('spoofed', '', spoofer.address),
    section('wrongkeytab', '', kdc.address, spoofer.keytabFile),
  ].join('\n'), `store_timeout = ${STORE_TIMEOUT_MS / 1000}\n`);
  const w = box.workerArg;
  const svc = (name: string, args: string): void => box.service(name, [`auth required {module} ${args} ${w}`, `account required {module} ${args} ${w}`]);
  svc('smtp', '');
  for (const store of ['bind', 'group', 'hosts', 'upn', 'desc', 'spoofed', 'wrongkeytab']) svc(store, `store=${store}`);
  worker = await box.startWorker(config);
  for (const p of [...PRINCIPALS, ...PEOPLE_LIST.map((q) => ({ password: q.ldapPassword }))]) recordSecret(p.password);
  recordSecret(SPOOFED);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await kdc?.destroy();
  await spoofer?.destroy();
  await slapd?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;
const account = async (service: string, user: string): Promise<string | undefined> => (await pamRun(box, service, user, [], { accountOnly: true })).account;
/** The worker's log has a line matching re (once it is out of the pipe). */
const logged = async (re: RegExp): Promise<void> => {
  expect(await worker.outputMatching(re)).toMatch(re);
};
/** The KDC's log lines that name the principal name@REALM. */
const asked = (name: string): number => kdc.log().split('\n').filter((l) => l.includes(`${name}@${TEST_REALM}`)).length;

describe('the KDC checks the password, the directory the account', () => {
  test('the principal\'s password is accepted; the entry\'s userPassword, which a bind accepts, is refused', async () => {
    expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'alice', 'ldap-alice-pw')).toBe('PAM_AUTH_ERR');
    expect(await auth('smtp', 'alice', 'krb-alice-pX')).toBe('PAM_AUTH_ERR');
    // The same entry with auth_method = bind: the directory's own password.
    expect(await auth('bind', 'alice', 'ldap-alice-pw')).toBe('PAM_SUCCESS');
    expect(await auth('bind', 'alice', 'krb-alice-pw')).toBe('PAM_AUTH_ERR');
  });
  test('disabled and expired in the directory: refused with the principal\'s right password, auth and account', async () => {
    expect(await auth('smtp', 'dis', 'krb-dis-pw')).toBe('PAM_PERM_DENIED');
    expect(await account('smtp', 'dis')).toBe('PAM_PERM_DENIED');
    expect(await auth('smtp', 'old', 'krb-old-pw')).toBe('PAM_ACCT_EXPIRED');
    expect(await account('smtp', 'old')).toBe('PAM_ACCT_EXPIRED');
    // A wrong password says nothing about the account, as with a bind.
    expect(await auth('smtp', 'dis', 'krb-dis-pX')).toBe('PAM_AUTH_ERR');
  });
  test('the KDC\'s own refusals: a disabled principal PAM_PERM_DENIED, an expired password PAM_NEW_AUTHTOK_REQD', async () => {
    expect(await auth('smtp', 'krbdis', 'krb-krbdis-pw')).toBe('PAM_PERM_DENIED');
    expect(await auth('smtp', 'stale', 'krb-stale-pw')).toBe('PAM_NEW_AUTHTOK_REQD');
    expect(await auth('smtp', 'stale', 'krb-stale-pX')).toBe('PAM_AUTH_ERR');
  });
  test('require_group: a member with the principal\'s password succeeds, a non-member is PAM_PERM_DENIED', async () => {
    expect(await auth('group', 'gina', 'krb-gina-pw')).toBe('PAM_SUCCESS');
    expect(await auth('group', 'jack', 'krb-jack-pw')).toBe('PAM_PERM_DENIED');
    expect(await account('group', 'jack')).toBe('PAM_PERM_DENIED');
    expect(await auth('group', 'jack', 'ldap-jack-pw')).toBe('PAM_AUTH_ERR');
  });
  test('host_attribute: this host (its short name) succeeds, another host is PAM_PERM_DENIED', async () => {
    expect(await auth('hosts', 'kate', 'krb-kate-pw')).toBe('PAM_SUCCESS');
    expect(await auth('hosts', 'mona', 'krb-mona-pw')).toBe('PAM_PERM_DENIED');
  });
});

describe('who the KDC is asked about', () => {
  test('unknown to the directory, known to the KDC: PAM_USER_UNKNOWN, and the KDC is not asked', async () => {
    const before = asked('ghost');
    expect(await auth('smtp', 'ghost', 'krb-ghost-pw')).toBe('PAM_USER_UNKNOWN');
    expect(await account('smtp', 'ghost')).toBe('PAM_USER_UNKNOWN');
    expect(asked('ghost')).toBe(before);
    // The count does see requests: alice's are in the log.
    expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_SUCCESS');
    expect(asked('alice')).toBeGreaterThan(0);
  });
  test('in the directory, unknown to the KDC: PAM_AUTH_ERR, logged for the admin', async () => {
    expect(await auth('smtp', 'nokrb', 'ldap-nokrb-pw')).toBe('PAM_AUTH_ERR');
    await logged(/store\.no_principal .*login=nokrb .*the KDC does not know the principal/);
  });
  test('the principal is the entry\'s spelling: "ALICE" finds alice\'s entry, and only alice\'s password opens it', async () => {
    expect(await auth('smtp', 'ALICE', 'krb-upper-pw')).toBe('PAM_AUTH_ERR');
    expect(await auth('smtp', 'ALICE', 'krb-alice-pw')).toBe('PAM_SUCCESS');
  });
  test('krb5_principal_attribute = userPrincipalName with enterprise names: jdoe is john.doe@example.test', async () => {
    expect(await auth('upn', 'jdoe', 'krb-upn-pw')).toBe('PAM_SUCCESS');
    expect(await auth('upn', 'jdoe', 'krb-jdoe-plain-pw')).toBe('PAM_AUTH_ERR');
    // Without it, jdoe is the principal jdoe.
    expect(await auth('smtp', 'jdoe', 'krb-jdoe-plain-pw')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'jdoe', 'krb-upn-pw')).toBe('PAM_AUTH_ERR');
  });
  test('an entry with no or several principal values logs on with no password', async () => {
    expect(await auth('upn', 'alice', 'krb-alice-pw')).toBe('PAM_AUTH_ERR');
    await logged(/store\.no_principal .*login=alice .*no userPrincipalName value/);
    // Two values would let whoever writes them pick whose password counts.
    expect(await auth('desc', 'twoupn', 'krb-twoupn-pw')).toBe('PAM_AUTH_ERR');
    expect(await auth('desc', 'twoupn', 'krb-alice-pw')).toBe('PAM_AUTH_ERR');
    await logged(/store\.no_principal .*login=twoupn .*more than one description value/);
  });
});

describe('validation against the keytab (KDC spoofing)', () => {
  test('a KDC of the same realm that is not the real one: never a success, even with the password it knows', async () => {
    const mark = syslogMark();
    expect(await auth('spoofed', 'alice', SPOOFED)).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark), 'did not validate against the keytab')).toHaveLength(1);
  });
  test('a keytab whose key is not the KDC\'s: PAM_AUTHINFO_UNAVAIL with the right password', async () => {
    expect(await auth('wrongkeytab', 'alice', 'krb-alice-pw')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
  test('a keytab removed after the start: PAM_AUTHINFO_UNAVAIL; back: success', async () => {
    const moved = `${kdc.keytabFile}.away`;
    fs.renameSync(kdc.keytabFile, moved);
    try {
      expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      fs.renameSync(moved, kdc.keytabFile);
    }
    expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_SUCCESS');
  });
});

describe('the config', () => {
  const refused = async (text: string, why: RegExp): Promise<void> => {
    const b = Sandbox.create();
    try {
      await expect(b.startWorker(b.writeConfig(text))).rejects.toThrow(why);
    } finally {
      await b.cleanup();
    }
  };
  test('a missing keytab: the worker does not start', async () => {
    await refused(section('', '', kdc.address, path.join(kdc.dir, 'no.keytab')), /keytab .*no\.keytab: .*no such file/i);
  });
  test('krb5_ keys under another auth_method: refused, naming the key and why', async () => {
    const bindWithRealm = section('').replace('auth_method = kerberos\n', '');
    await refused(bindWithRealm, /\[store\] krb5_realm: is for auth_method = kerberos \(auth_method is bind\)/);
  });
  test('ldap:// to another host without TLS: refused, the entries deciding who logs on as whom', async () => {
    await refused(section('').replace(slapd.ldapUri, 'ldap://ldap1.example.org'), /\[store\] uri: ldap:\/\/ldap1.example.org:389 would carry the entries that say who may log on, and as which principal, unprotected/);
  });
  test('the krb5_ keys are checked as the krb5 store checks its own, and named with their prefix', async () => {
    await refused(section('', 'krb5_principal = upn\n'), /\[store\] krb5_principal: \W+upn\W+ is not one of %u, %u@REALM, enterprise/);
    await refused(section('', 'krb5_timeout = 90\n'), /\[store\] krb5_timeout: 90 is outside/);
    await refused(section('', 'krb5_principal_attribute = user principal\n'), /\[store\] krb5_principal_attribute: \W+user principal\W+ is not an attribute name/);
  });
});

test('the KDC stopped: PAM_AUTHINFO_UNAVAIL with the cause logged; the directory still answers the account phase', async () => {
  await kdc.stop();
  try {
    const mark = syslogMark();
    expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark), 'ldap store')[0]).toMatch(/no KDC answered/);
    expect(await account('smtp', 'alice')).toBe('PAM_SUCCESS');
  } finally {
    await kdc.launch();
  }
  expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_SUCCESS');
});

test('the KDC paused (SIGSTOP): PAM_AUTHINFO_UNAVAIL once the budget left after the search is spent, the cause logged', async () => {
  await kdc.pause();
  try {
    const mark = syslogMark();
    expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_AUTHINFO_UNAVAIL');
    // The check's own cause, not the worker's deadline: the budget ends before store_timeout.
    expect(moduleLines(await syslogSince(mark), 'ldap store')[0]).toMatch(/ldap store: no KDC answered/);
  } finally {
    kdc.resume();
  }
  expect(await auth('smtp', 'alice', 'krb-alice-pw')).toBe('PAM_SUCCESS');
});

test('pam-mapi check: the principal\'s password accepted, the entry\'s refused, an expired one says so', () => {
  const cli = (user: string, input: string): { status: number | null; stdout: string } => {
    const r = spawnSync(process.execPath, [CLI, 'check', user, '--worker', box.socketPath], { input, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout };
  };
  expect(cli('alice', 'krb-alice-pw\n')).toEqual({ status: 0, stdout: 'authenticate PAM_SUCCESS (Success)\nacct_mgmt    PAM_SUCCESS (Success)\nalice: accepted\n' });
  const bad = cli('alice', 'ldap-alice-pw\n');
  expect(bad.stdout).toMatch(/^authenticate PAM_AUTH_ERR .*\n(.*\n)*alice: refused \(PAM_AUTH_ERR\)\n$/);
  expect(bad.status).toBe(1);
  const stale = cli('stale', 'krb-stale-pw\n');
  expect(stale.stdout).toMatch(/reason +authenticate: NEW_AUTHTOK_REQD \(the password has expired\)\n(.*\n)*stale: refused \(PAM_NEW_AUTHTOK_REQD\)\n$/);
});

describe('the doctor on an ldap store checked by Kerberos', () => {
  const doctor = (keytab: string): Promise<string[]> => checkStores(parseConfig(`[worker]\nstore_timeout = 3\n${section('', '', kdc.address, keytab)}`, '/etc/pam_mapi.conf'))
    .then((rows) => rows.map((r) => `${r.status} ${JSON.stringify(r)}`));
  test('the keytab\'s key tried against the KDC: OK, with the clock difference', async () => {
    const rows = await doctor(kdc.keytabFile);
    expect(rows.map((r) => r.split(' ')[0])).toEqual(['OK', 'OK']);
    expect(rows[1]).toMatch(/the KDC issued a ticket to its key and the ticket validated \(clocks [0-9]+ s apart\)/);
  });
  test('a keytab whose key is not the KDC\'s: FAIL, with how to make it again', async () => {
    const rows = await doctor(spoofer.keytabFile);
    expect(rows.map((r) => r.split(' ')[0])).toEqual(['OK', 'FAIL']);
    expect(rows[1]).toMatch(/its key is not the KDC's.*msktutil update, or kadmin ktadd/);
  });
});
