// From a login to a Kerberos principal. The login is always data: "\", "/" and "@" are escaped
// for krb5_parse_name, so "alice/admin" is the one-component principal alice\/admin, never the
// admin instance of alice, and "back\slash" is not read as an escape.

/** How a login names its principal (the `principal` key). */
export const PRINCIPAL_MAPPINGS = ['%u', '%u@REALM', 'enterprise'] as const;
export type PrincipalMapping = (typeof PRINCIPAL_MAPPINGS)[number];

const escapeName = (s: string): string => s.replace(/[\\/@]/g, (c) => `\\${c}`);

/** The principal for krb5_parse_name, or null when the login cannot name one of this realm
 * (then the user is unknown, and no KDC is asked). */
export function principalFor(login: string, mapping: PrincipalMapping, realm: string): { principal: string; enterprise: boolean } | null {
  switch (mapping) {
    case '%u':
      // A login with "@" would name another realm or an enterprise name: not this mapping's.
      if (login.includes('@')) return null;
      return { principal: `${escapeName(login)}@${realm}`, enterprise: false };
    case '%u@REALM': {
      // alice or alice@REALM (the realm as configured, in its case); another realm is unknown.
      const at = login.lastIndexOf('@');
      const name = at < 0 ? login : login.slice(0, at);
      if (at >= 0 && login.slice(at + 1) !== realm) return null;
      if (name === '' || name.includes('@')) return null;
      return { principal: `${escapeName(name)}@${realm}`, enterprise: false };
    }
    case 'enterprise':
      // AD's user principal names (alice@example.com) and plain account names alike: the KDC
      // finds the account (MS-KILE enterprise names, with canonicalization).
      // krb5_parse_name reads all of an enterprise name as its one component (each "@" in
      // it included) and gives it the default realm, which the addon sets to the store's.
      return { principal: escapeName(login), enterprise: true };
  }
}
