// entry_cache_timeout serves auth_method = bind only: under auth_method = password every
// authentication compares the userPassword a fresh search read, and an account check always
// searches, so an entry kept there would serve nothing and only hold memory (up to 10,000
// entries per store, filled by account checks of any known names).
import fs from 'fs';
import { SectionReader } from '../../src/config/section';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD, ssha } from '../../src/sandbox/slapd';
import { freePort } from '../../src/sandbox/ports';
import { LdapStore } from '../../src/stores/ldap/ldap-store';
import { parseLdapSettings } from '../../src/stores/ldap/settings';

let slapd: PrivateSlapd;

beforeAll(async () => {
  slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
  await slapd.add(['ola', 'pia'].map((cn) => `dn: cn=${cn},${PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: kopano-user\ncn: ${cn}\nsn: Test\nuid: ${cn}\n`
    + `userPassword: ${ssha(`${cn}-pw`)}\nkopanoAccount: 1\n`).join('\n'));
}, 60_000);

afterAll(async () => {
  await slapd?.destroy();
});

function open(authMethod: string): LdapStore {
  const settings = parseLdapSettings(new SectionReader('test', 'store', {
    type: 'ldap', uri: slapd.ldapUri, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, base: PEOPLE, auth_method: authMethod,
  }));
  return new LdapStore(settings, { log: () => undefined, storeTimeoutMs: 5000, readFile: (p) => fs.readFileSync(p) });
}

const kept = (store: LdapStore): number => store['entries'].size;

test.each([
  ['password', 0],
  ['bind', 2],
])('auth_method = %s: entries kept after a right password and an account check: %d', async (method, expected) => {
  const store = open(method);
  try {
    const signal = new AbortController().signal;
    expect(await store.verify('ola', Buffer.from('ola-pw'), signal)).toMatchObject({ found: true, passwordOk: true });
    expect(await store.lookup('pia', signal)).toMatchObject({ found: true });
    expect(kept(store)).toBe(expected);
    // Kept or not, the answers are the directory's.
    expect(await store.verify('ola', Buffer.from('wrong'), signal)).toMatchObject({ found: true, passwordOk: false });
    expect(await store.verify('ola', Buffer.from('ola-pw'), signal)).toMatchObject({ found: true, passwordOk: true });
  } finally {
    await store.close();
  }
});
