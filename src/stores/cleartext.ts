// The rule the two network stores share: a link that carries passwords (ldap) or password
// hashes and the answers that decide a login (zarafa) must not cross a network in clear text,
// where an on-path host can read it or answer in the server's place. A store whose server is
// reached over the network without TLS is a config error, unless the admin accepts it in
// writing with ALLOW_CLEARTEXT.
import net from 'net';
import { SectionReader } from '../config/section';

/** The key, the same in both stores' sections. */
export const ALLOW_CLEARTEXT = 'allow_cleartext';

/** This machine, spelled so that no network is involved: the name localhost, 127.0.0.0/8, ::1
 * (also as an IPv4-mapped address). Other names are not resolved: what they point at may change. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = /^::ffff:([0-9.]+)$/.exec(h)?.[1] ?? h;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/** allow_cleartext, a yes/no like every other (default no). */
export function allowCleartext(r: SectionReader): boolean {
  return r.boolean(ALLOW_CLEARTEXT, false);
}
