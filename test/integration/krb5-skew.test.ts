// Clock skew against principals that require pre-authentication (as Active Directory's do) and
// against principals that do not: MIT krb5 takes the KDC's time from its "preauthentication
// required" error and stamps its request with it, so neither side notices that the clocks
// differ. The check must still refuse a KDC whose clock is more than krb5.conf's clockskew
// (300 s) from ours, ahead or behind, for the krb5 store and for the ldap store's
// auth_method = kerberos (they share KdcClient and the addon), and accept one within it.
// Private MIT KDCs (copies of one database under libfaketime) and a private slapd, through real
// libpam, the built module and a real worker.
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { REPO_ROOT, Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const USERS = [
  // Pre-authentication required: the case the library adjusts its clock for.
  { name: 'alice', password: 'krb-alice-pw', preauth: true },
  // No pre-authentication: the KDC hands out the AS-REP at once.
  { name: 'nopre', password: 'krb-nopre-pw', preauth: false },
];
/** The KDC's clock against ours (libfaketime's FAKETIME): out of the 300 s either way, and within. */
const CLOCKS = { ahead: '+1h', behind: '-1h', near: '+3m' } as const;
type Clock = keyof typeof CLOCKS;

let slapd: PrivateSlapd;
let kdc: PrivateKdc;
const skewed: Partial<Record<Clock, PrivateKdc>> = {};
let box: Sandbox;

function kdcOf(clock: Clock | 'real'): PrivateKdc {
  const k = clock === 'real' ? kdc : skewed[clock];
  if (k === undefined) throw new Error(`no KDC ${clock}`);
  return k;
}

function ldif(uid: string): string {
  // The entry's password is not the principal's: a success proves the KDC checked it.
  return [`dn: uid=${uid},${PEOPLE}`, 'objectClass: inetOrgPerson', 'objectClass: kopano-user', 'objectClass: user',
    `uid: ${uid}`, `cn: ${uid}`, 'sn: Test', 'kopanoAccount: 1', `userPassword: ldap-${uid}-pw`, ''].join('\n');
}

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  await slapd.add(USERS.map((u) => ldif(u.name)).join('\n'));
  kdc = await PrivateKdc.start({ port: await freePort(), principals: USERS });
  // The realm's KDC with its clock off: a copy of the database, so every key is right and the
  // ticket validates against the keytab; only the clock differs.
  for (const c of Object.keys(CLOCKS) as Clock[]) skewed[c] = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: kdc, clockOffset: CLOCKS[c] });

  box = Sandbox.create();
  const secret = box.file('ldap.secret', `${SERVICE_PASSWORD}\n`, 0o600);
  const sections: string[] = [];
  for (const c of ['real', ...Object.keys(CLOCKS)] as Array<Clock | 'real'>) {
    const k = kdcOf(c);
    sections.push(`[store.krb5-${c}]\ntype = krb5\nrealm = ${TEST_REALM}\nkdc = ${k.address}\nkeytab = ${kdc.keytabFile}\n`);
    sections.push(`[store.ldap-${c}]\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\n`
      + `filter = (&(objectClass=kopano-user)(uid=%u))\nauth_method = kerberos\nkrb5_realm = ${TEST_REALM}\nkrb5_kdc = ${k.address}\nkrb5_keytab = ${kdc.keytabFile}\n`);
    for (const t of ['krb5', 'ldap']) {
      box.service(`${t}-${c}`, [`auth required {module} store=${t}-${c} ${box.workerArg}`, `account required {module} store=${t}-${c} ${box.workerArg}`]);
    }
  }
  await box.startWorker(box.writeConfig(sections.join('\n'), 'store_timeout = 3\n'));
  for (const u of USERS) recordSecret(u.password);
}, 90000);

afterAll(async () => {
  await box?.cleanup();
  await kdc?.destroy();
  for (const k of Object.values(skewed)) await k?.destroy();
  await slapd?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;
const account = async (service: string, user: string): Promise<string | undefined> => (await pamRun(box, service, user, [], { accountOnly: true })).account;

test('alice requires pre-authentication, nopre does not (kadmin\'s flags as the sandbox set them)', () => {
  const attributes = (name: string): string => {
    const r = spawnSync('kadmin.local', ['-r', kdc.realm, '-q', `getprinc ${name}`], { env: kdc.env, encoding: 'utf8' });
    return /^Attributes:(.*)$/m.exec(r.stdout)?.[1] ?? `(no principal ${name}: ${r.stderr})`;
  };
  expect(attributes('alice')).toContain('REQUIRES_PRE_AUTH');
  expect(attributes('nopre')).not.toContain('REQUIRES_PRE_AUTH');
});

describe.each(['krb5', 'ldap'])('the %s store', (type) => {
  test('the real KDC: both users log on; an account check of a pre-authenticating principal succeeds', async () => {
    for (const u of USERS) expect([u.name, await auth(`${type}-real`, u.name, u.password)]).toEqual([u.name, 'PAM_SUCCESS']);
    for (const u of USERS) expect([u.name, await account(`${type}-real`, u.name)]).toEqual([u.name, 'PAM_SUCCESS']);
  });

  test.each(['ahead', 'behind'] as const)('a KDC an hour %s: PAM_AUTHINFO_UNAVAIL with and without pre-authentication, the clocks logged', async (clock) => {
    for (const u of USERS) {
      const mark = syslogMark();
      expect([u.name, await auth(`${type}-${clock}`, u.name, u.password)]).toEqual([u.name, 'PAM_AUTHINFO_UNAVAIL']);
      // The error line (not debug) of this service names the cause.
      expect(moduleLines(await syslogSince(mark), `(${type}-${clock}:auth)`).join('\n')).toMatch(/clocks of this host and the KDC differ by more than the allowed skew \(300 s/);
      // A wrong password is never a success either.
      expect(await auth(`${type}-${clock}`, u.name, 'not-the-password')).not.toBe('PAM_SUCCESS');
    }
  });

  test('a KDC 3 minutes ahead, within clockskew: both users log on', async () => {
    for (const u of USERS) expect([u.name, await auth(`${type}-near`, u.name, u.password)]).toEqual([u.name, 'PAM_SUCCESS']);
  });
});

describe('krb5.conf decides the allowed skew and whether the library adjusts', () => {
  /** One check by the addon and the clock rule, in a process whose krb5.conf is this. */
  const checkUnder = (libdefaults: string, clock: Clock, user = USERS[0]): { kind: string; message: string } => {
    const conf = path.join(kdc.dir, `krb5-${clock}-${user.name}-${libdefaults.replace(/\W/g, '')}.conf`);
    fs.writeFileSync(conf, `[libdefaults]\n default_realm = ${TEST_REALM}\n${libdefaults}\n`);
    const script = `const a = require(${JSON.stringify(path.join(REPO_ROOT, 'build/Release/krb5_check.node'))});
      const { withClockRule } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist/src/stores/krb5/clock.js'))});
      a.check(${JSON.stringify({ principal: `${user.name}@${TEST_REALM}`, enterprise: false, realm: TEST_REALM, kdcs: [kdcOf(clock).address], keytab: kdc.keytabFile, server: '', budgetMs: 3000 })}, Buffer.from(process.env.PW))
        .then((r) => { const c = withClockRule(r); process.stdout.write(JSON.stringify({ kind: c.kind, message: c.message })); });`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, KRB5_CONFIG: conf, PW: user.password }, encoding: 'utf8' });
    return JSON.parse(r.stdout || `{"kind":"none","message":${JSON.stringify(r.stderr)}}`) as { kind: string; message: string };
  };
  test('clockskew = 120: the KDC 3 minutes ahead is refused, naming 120 s', () => {
    expect(checkUnder(' clockskew = 300', 'near').kind).toBe('ok');
    const c = checkUnder(' clockskew = 120', 'near');
    expect(c.kind).toBe('unavailable');
    expect(c.message).toMatch(/allowed skew \(120 s.*the KDC's clock is 1[78][0-9] s ahead of this host's/);
  });
  test('kdc_timesync = 0: the library refuses by itself, with the same cause', () => {
    // With pre-authentication the KDC refuses the timestamp; without, the library the reply.
    for (const [clock, user] of (['ahead', 'behind'] as const).flatMap((c) => USERS.map((u) => [c, u] as const))) {
      const c = checkUnder(' kdc_timesync = 0', clock, user);
      expect([clock, user.name, c.kind]).toEqual([clock, user.name, 'unavailable']);
      expect(c.message).toMatch(/clocks of this host and the KDC differ by more than the allowed skew \(300 s/);
    }
  });
});
