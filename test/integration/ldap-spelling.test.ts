// One user, one spelling: slapd's matching rules find alice's entry for " alice", "alice ",
// fullwidth "ａｌｉｃｅ" and "alİce" too (caseIgnoreMatch drops outer spaces and folds
// Unicode). The ldap store accepts a name only when it equals the login value of the entry up to
// ASCII case, as the zarafa and file stores do, so per-name lockouts and Dovecot's %u see one
// name per user. Real slapd, real libpam, the built module and a real worker.
import { execFileSync } from 'child_process';
import { Sandbox } from '../../src/sandbox/sandbox';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../../src/sandbox/slapd';
import { freePort } from '../../src/sandbox/ports';
import { pamRun } from '../helpers/pam';

const PASSWORD = 'wonderland-42';
const OTHER_SPELLINGS = [' alice', 'alice ', 'ａｌｉｃｅ', 'alİce'];

let slapd: PrivateSlapd;
let box: Sandbox;

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  const hash = execFileSync('slappasswd', ['-h', '{SSHA}', '-s', PASSWORD]).toString().trim();
  await slapd.add(`dn: cn=alice,${PEOPLE}
objectClass: inetOrgPerson
objectClass: kopano-user
cn: alice
sn: Test
uid: alice
mail: alice@example.org
userPassword: ${hash}
`);
  box = Sandbox.create();
  const secret = box.file('ldap.secret', `${SERVICE_PASSWORD}\n`, 0o600);
  const section = (name: string, extra = ''): string =>
    `[${name}]\ntype = ldap\nuri = ${slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\n${extra}\n`;
  const config = box.writeConfig([
    section('store'),
    section('store.pw', 'auth_method = password'),
    // The login inside a longer value: the store compares the whole value the filter asked for.
    section('store.mail', 'filter = (&(objectClass=inetOrgPerson)(mail=%u@example.org))'),
  ].join('\n'));
  for (const [service, store] of [['bind', ''], ['pw', 'store=pw'], ['mail', 'store=mail']]) {
    box.service(service, [`auth required {module} ${store} ${box.workerArg}`, `account required {module} ${store} ${box.workerArg}`]);
  }
  await box.startWorker(config);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await slapd?.destroy();
});

describe.each(['bind', 'pw', 'mail'])('service %s', (service) => {
  test('alice and ALICE: PAM_SUCCESS', async () => {
    for (const name of ['alice', 'ALICE']) {
      const r = await pamRun(box, service, name, [PASSWORD], { account: true });
      expect([name, r.auth, r.account]).toEqual([name, 'PAM_SUCCESS', 'PAM_SUCCESS']);
    }
  });

  test.each(OTHER_SPELLINGS)('%j with alice\'s right password: PAM_USER_UNKNOWN, in auth and in account', async (name) => {
    const r = await pamRun(box, service, name, [PASSWORD]);
    expect(r.auth).toBe('PAM_USER_UNKNOWN');
    const a = await pamRun(box, service, name, [], { accountOnly: true });
    expect(a.account).toBe('PAM_USER_UNKNOWN');
  });
});
