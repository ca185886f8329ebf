// From a login to a Kerberos principal (src/stores/krb5/principal.ts): the login is data for
// krb5_parse_name, never its syntax, and each mapping admits only its own realm.
import { principalFor } from '../../src/stores/krb5/principal';

const R = 'EXAMPLE.COM';

test.each([
  ['alice', 'alice@EXAMPLE.COM'],
  // An instance, a realm and an escape in a login stay characters of one component.
  ['alice/admin', 'alice\\/admin@EXAMPLE.COM'],
  ['back\\slash', 'back\\\\slash@EXAMPLE.COM'],
  ['jürgen', 'jürgen@EXAMPLE.COM'],
])('%%u: %s is %s', (login, principal) => {
  expect(principalFor(login, '%u', R)).toEqual({ principal, enterprise: false });
});

test('%u: a login with @ is no one (not another realm, not an enterprise name)', () => {
  expect(principalFor('alice@EXAMPLE.COM', '%u', R)).toBeNull();
  expect(principalFor('alice@OTHER.ORG', '%u', R)).toBeNull();
});

test('%u@REALM: the realm may be given, as configured; any other is no one', () => {
  expect(principalFor('alice', '%u@REALM', R)).toEqual({ principal: 'alice@EXAMPLE.COM', enterprise: false });
  expect(principalFor('alice@EXAMPLE.COM', '%u@REALM', R)).toEqual({ principal: 'alice@EXAMPLE.COM', enterprise: false });
  expect(principalFor('alice@example.com', '%u@REALM', R)).toBeNull();
  expect(principalFor('alice@OTHER.ORG', '%u@REALM', R)).toBeNull();
  expect(principalFor('a@b@EXAMPLE.COM', '%u@REALM', R)).toBeNull();
  expect(principalFor('@EXAMPLE.COM', '%u@REALM', R)).toBeNull();
});

test('enterprise: a user principal name is one enterprise component of the store\'s realm', () => {
  expect(principalFor('alice@example.com', 'enterprise', R)).toEqual({ principal: 'alice\\@example.com', enterprise: true });
  expect(principalFor('alice', 'enterprise', R)).toEqual({ principal: 'alice', enterprise: true });
  expect(principalFor('a/b', 'enterprise', R)).toEqual({ principal: 'a\\/b', enterprise: true });
});
