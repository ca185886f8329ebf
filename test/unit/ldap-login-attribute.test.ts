// Which attribute holds the login, for the ldap store's "one user, one spelling" check: taken
// from the filter's equality items that hold %u, or from login_attribute when the filter cannot
// tell (the check itself runs against a real slapd in test/integration/ldap-spelling.test.ts).
import { parseConfig } from '../../src/stores/registry';
import { entryHasLogin, rulesFromFilter } from '../../src/stores/ldap/login-attribute';

const F = '/etc/pam_mapi.conf';
const ldap = (extra: string): string => `[store]\ntype = ldap\nuri = ldap://127.0.0.1\nbase = ou=people,dc=example,dc=org\n${extra}\n`;

test('rules from the filter: every equality item with %u, with the text around it', () => {
  expect(rulesFromFilter('(&(objectClass=kopano-user)(uid=%u))')).toEqual([{ attribute: 'uid', parts: ['', ''] }]);
  expect(rulesFromFilter('(&(objectClass=user)(|(sAMAccountName=%u)(userPrincipalName=%u@ad.example.org)))'))
    .toEqual([{ attribute: 'sAMAccountName', parts: ['', ''] }, { attribute: 'userPrincipalName', parts: ['', '@ad.example.org'] }]);
  expect(rulesFromFilter('(&(uid=%u)(!(mail=x\\28%u\\29)))')).toEqual([{ attribute: 'uid', parts: ['', ''] }, { attribute: 'mail', parts: ['x(', ')'] }]);
  expect(rulesFromFilter('(uid:caseExactMatch:=%u)')).toEqual([{ attribute: 'uid', parts: ['', ''] }]);
  // A substring item beside an equality one only finds more entries; the equality item decides.
  expect(rulesFromFilter('(|(uid=%u)(cn=%u*))')).toEqual([{ attribute: 'uid', parts: ['', ''] }]);
});

test('a filter that cannot tell is refused unless login_attribute says', () => {
  for (const filter of ['(uid=%u*)', '(uid~=%u)', '(uidNumber>=%u)']) {
    expect(() => parseConfig(ldap(`filter = ${filter}`), F)).toThrow(/\[store\] filter: .*cannot be compared exactly.*set login_attribute/);
    expect(parseConfig(ldap(`filter = ${filter}\nlogin_attribute = uid`), F).stores.get('')?.settings).toMatchObject({ loginRules: [{ attribute: 'uid', parts: ['', ''] }] });
  }
  expect(() => parseConfig(ldap('login_attribute = "u i d"'), F)).toThrow(/login_attribute: "u i d" is not an attribute name/);
});

test('the check: equal up to ASCII case, nothing else', () => {
  const entry = { dn: 'cn=a', uid: ['Alice'], mail: 'alice@example.org' };
  const uid = [{ attribute: 'uid', parts: ['', ''] }];
  for (const ok of ['alice', 'ALICE', 'Alice']) expect([ok, entryHasLogin(entry, uid, ok)]).toEqual([ok, true]);
  for (const no of [' alice', 'alice ', 'ａｌｉｃｅ', 'alİce', 'alıce', 'alice\u200b']) expect([no, entryHasLogin(entry, uid, no)]).toEqual([no, false]);
  const mail = [{ attribute: 'mail', parts: ['', '@example.org'] }];
  expect(entryHasLogin(entry, mail, 'ALICE')).toBe(true);
  expect(entryHasLogin(entry, mail, 'alice ')).toBe(false);
});
