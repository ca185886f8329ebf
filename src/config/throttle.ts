// The [throttle] section: how the worker slows and then refuses password guessing across every
// service and store (src/worker/throttle.ts). Conservative defaults, on unless `enabled = no`.
import net from 'net';
import { SectionReader } from './section';

/** An address block of trusted_networks or deny. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export interface ThrottleSettings {
  enabled: boolean;
  /** Failures a key may have before its failed answers are delayed. */
  delayAfter: number;
  /** The delay doubles from 2 s per failure past delayAfter, up to this. */
  maxDelayMs: number;
  /** At this many failures the key is refused, without checking the password, for refuseForMs. */
  refuseAfter: number;
  refuseForMs: number;
  /** At this many failures for one name across all addresses, the name is refused from every
   * address that is not known good for it. Higher than refuseAfter, so one address guessing
   * locks out that address, not the user. */
  userRefuseAfter: number;
  /** A key's failures are forgotten after this long without a new one. */
  forgetAfterMs: number;
  /** After a successful login from an address, that address is known good for the user for this
   * long: a lock of the user name (an attack from elsewhere) does not refuse it. */
  knownGoodForMs: number;
  /** Never counted, delayed or refused (Dovecot's login_trusted_networks). */
  trustedNetworks: Cidr[];
  /** Always refused. */
  deny: Cidr[];
  /** Entries each of the three tables (addresses, names, name and address) may hold. */
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  enabled: true,
  delayAfter: 3,
  maxDelayMs: 15_000,
  refuseAfter: 10,
  refuseForMs: 15 * 60_000,
  userRefuseAfter: 30,
  forgetAfterMs: 60 * 60_000,
  knownGoodForMs: 7 * 24 * 3600_000,
  trustedNetworks: [],
  deny: [],
  maxEntries: 50_000,
};

/** "10.0.0.0/8", "2001:db8::/32", or a single address (a /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const m = /^([^/]+)(?:\/([0-9]{1,3}))?$/.exec(text);
  if (m === null) return null;
  const kind = net.isIP(m[1]);
  if (kind === 0) return null;
  const family = kind === 4 ? 'ipv4' : 'ipv6';
  const max = kind === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return null;
  return { address: m[1], prefix, family };
}

export function parseThrottle(r: SectionReader): ThrottleSettings {
  const cidrs = (key: string): Cidr[] => r.list(key, []).map((v) => parseCidr(v)
    ?? r.fail(key, `"${v}" is not an address or an address block like 192.0.2.0/24 or 2001:db8::/32`));
  const d = DEFAULT_THROTTLE;
  const s: ThrottleSettings = {
    enabled: r.boolean('enabled', d.enabled),
    delayAfter: r.integer('delay_after', d.delayAfter, 1, 1000),
    maxDelayMs: r.seconds('max_delay', d.maxDelayMs / 1000, 60),
    refuseAfter: r.integer('refuse_after', d.refuseAfter, 1, 100_000),
    refuseForMs: r.seconds('refuse_for', d.refuseForMs / 1000, 86_400),
    userRefuseAfter: r.integer('user_refuse_after', d.userRefuseAfter, 1, 1_000_000),
    forgetAfterMs: r.seconds('forget_after', d.forgetAfterMs / 1000, 7 * 86_400),
    knownGoodForMs: r.seconds('known_good_for', d.knownGoodForMs / 1000, 90 * 86_400, true),
    trustedNetworks: cidrs('trusted_networks'),
    deny: cidrs('deny'),
    maxEntries: r.integer('max_entries', d.maxEntries, 100, 10_000_000),
  };
  if (s.refuseAfter < s.delayAfter) r.fail('refuse_after', `${s.refuseAfter} is below delay_after (${s.delayAfter})`);
  if (s.userRefuseAfter < s.refuseAfter) r.fail('user_refuse_after', `${s.userRefuseAfter} is below refuse_after (${s.refuseAfter})`);
  r.finish();
  return s;
}
