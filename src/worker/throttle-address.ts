// The client address as the throttle counts it: PAM_RHOST as the service set it, an IPv4
// address as itself (also when written IPv4-mapped, ::ffff:192.0.2.1), an IPv6 address by its
// /64 (one customer line or host usually holds a whole /64, and changing the low bits costs an
// attacker nothing: OpenSSH's PerSourceNetBlockSize does the same), a host name as its lowercase
// text. An empty PAM_RHOST (saslauthd never sets it) has no address key.
import net from 'net';

export interface ClientAddress {
  /** What the address table counts. */
  key: string;
  /** The address to match trusted_networks and deny against, or null for a host name. */
  ip: string | null;
  family: 'ipv4' | 'ipv6' | null;
}

/** Bound on the text of a host name kept as a key. */
const MAX_HOST_KEY = 255;

function expandIPv6(ip: string): string[] | null {
  const [head, tail, extra] = ip.split('::');
  if (extra !== undefined) return null;
  const part = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'));
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0) return null;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...t];
  return groups.length === 8 ? groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')) : null;
}

export function clientAddress(rhost: string): ClientAddress | null {
  const text = rhost.trim();
  if (text === '') return null;
  if (net.isIPv4(text)) return { key: text, ip: text, family: 'ipv4' };
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (net.isIPv6(bare)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped !== null && net.isIPv4(mapped[1])) return { key: mapped[1], ip: mapped[1], family: 'ipv4' };
    const groups = expandIPv6(bare);
    if (groups !== null) return { key: `${groups.slice(0, 4).join(':')}::/64`, ip: bare, family: 'ipv6' };
  }
  return { key: `host:${text.toLowerCase().slice(0, MAX_HOST_KEY)}`, ip: null, family: null };
}
