// The cross-service throttle: the worker sees every login of every service (SMTP through
// saslauthd, IMAP and POP3 through Dovecot) and every store, so it counts failed guesses per
// client address, per user name and per name-and-address, wherever they come from.
//
// Before the password is checked, gate() says whether the attempt is refused without asking
// the store: the address is on the deny list, or it, or this name from it, has reached
// refuse_after failures (refused for refuse_for), or the name has reached user_refuse_after
// across all addresses and this address is not known good for it (a successful login from it within
// known_good_for). That last rule is the answer to one user attacked from many addresses: the
// attack locks out the attackers' addresses, not the user's own, so the user's mail client
// keeps working; a new address of the user's is refused until the lock ends.
//
// After the check, record() counts a wrong password or an unknown name (a repeated identical
// wrong password from the same address counts once: a client with an old saved password is not
// an attacker) and returns the delay to ask for. The delay is the RESULT's fail delay, which
// libpam applies in the calling process and only to a failure: the worker holds no connection
// for it (a sleep in the worker would let an attacker fill max_connections with waiting
// guesses), and a right password is never delayed. An attacker who gives up waiting learns
// "wrong" early, but the refusal, which checks nothing, bounds the guesses to refuse_after
// per key per refuse_for however fast they come.
//
// Memory: three tables of at most max_entries each (throttle-table.ts); the wrong-password
// digests are HMAC-SHA256 under a key made at start and never written anywhere, cut to 48 bits
// (one number; two different passwords collide once in 2^48), 4 per name-and-address entry.
import crypto from 'crypto';
import net from 'net';
import { Cidr, ThrottleSettings } from '../config/throttle';
import { clientAddress, ClientAddress } from './throttle-address';
import { BoundedTable, Entry } from './throttle-table';

export interface Clock {
  nowMs(): number;
}

const SYSTEM_CLOCK: Clock = { nowMs: () => Date.now() };

/** Each step of the delay past delay_after doubles it from this. */
export const THROTTLE_BASE_DELAY_MS = 2000;
const RECENT = 4;

/** What the throttle says before the password is checked. */
export type Gate =
  | { kind: 'exempt' }
  | { kind: 'refuse'; why: string }
  | { kind: 'check'; userKey: string; address: ClientAddress | null; pairKey: string };

export type Attempt = 'success' | 'failure' | 'other';

export interface Recorded {
  /** The fail delay to ask for, in milliseconds (0: none of the throttle's). */
  delayMs: number;
  /** The failure was counted (false for a repeated wrong password, a success, an exempt address). */
  counted: boolean;
  /** The highest count among the keys of this attempt after it. */
  failures: number;
}

function blockList(cidrs: readonly Cidr[]): net.BlockList {
  const list = new net.BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/** Stores compare names up to ASCII case, so the throttle does too: "Alice" is alice's count. */
function userKey(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

export class Throttle {
  private settings!: ThrottleSettings;
  private trusted = new net.BlockList();
  private denied = new net.BlockList();
  private readonly addresses: BoundedTable;
  private readonly users: BoundedTable;
  private readonly pairs: BoundedTable;
  private readonly digestKey = crypto.randomBytes(32);
  /** Refusals and counted failures since start, for the admin's numbers. */
  readonly totals = { refused: 0, delayed: 0, counted: 0, repeats: 0 };

  constructor(settings: ThrottleSettings, private readonly clock: Clock = SYSTEM_CLOCK) {
    this.addresses = new BoundedTable(settings.maxEntries);
    this.users = new BoundedTable(settings.maxEntries);
    this.pairs = new BoundedTable(settings.maxEntries);
    this.configure(settings);
  }

  /** New settings on reload; what was counted stays (a SIGHUP is no way around a lock). */
  configure(settings: ThrottleSettings): void {
    this.settings = settings;
    this.trusted = blockList(settings.trustedNetworks);
    this.denied = blockList(settings.deny);
    for (const t of [this.addresses, this.users, this.pairs]) t.max = settings.maxEntries;
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Entries held now, per table. */
  sizes(): { addresses: number; users: number; pairs: number } {
    return { addresses: this.addresses.size, users: this.users.size, pairs: this.pairs.size };
  }

  /** Keys refused now, per table (the admin's view; walks the tables, so only for a scrape). */
  lockedNow(): { addresses: number; users: number; pairs: number } {
    const now = this.clock.nowMs();
    const count = (t: BoundedTable): number => {
      let n = 0;
      for (const [, e] of t.entries()) if (e.lockedUntilMs > now) n++;
      return n;
    };
    return { addresses: count(this.addresses), users: count(this.users), pairs: count(this.pairs) };
  }

  gate(user: string, rhost: string): Gate {
    const s = this.settings;
    const address = clientAddress(rhost);
    if (address?.ip != null && address.family !== null) {
      if (this.denied.check(address.ip, address.family)) return this.refused('the client address is on the deny list');
      if (this.trusted.check(address.ip, address.family)) return { kind: 'exempt' };
    }
    if (!s.enabled) return { kind: 'exempt' };
    const now = this.clock.nowMs();
    const uKey = userKey(user);
    const pairKey = `${uKey}\u0000${address?.key ?? ''}`;
    const locked = (e: Entry | undefined): boolean => e !== undefined && e.lockedUntilMs > now;
    const left = (e: Entry | undefined): number => Math.ceil(((e?.lockedUntilMs ?? now) - now) / 1000);
    const a = address === null ? undefined : this.addresses.get(address.key, now);
    if (locked(a)) return this.refused(`${s.refuseAfter} failures from this address; refused for ${left(a)} s more`);
    const p = this.pairs.get(pairKey, now);
    if (locked(p)) return this.refused(`${s.refuseAfter} failures for this user from this address; refused for ${left(p)} s more`);
    const u = this.users.get(uKey, now);
    if (locked(u) && !(p !== undefined && p.goodUntilMs > now)) {
      return this.refused(`${s.userRefuseAfter} failures for this user from several addresses, and this address is not known good for it; refused for ${left(u)} s more`);
    }
    return { kind: 'check', userKey: uKey, address, pairKey };
  }

  record(gate: Gate, attempt: Attempt, secret: Buffer | null): Recorded {
    const none: Recorded = { delayMs: 0, counted: false, failures: 0 };
    if (gate.kind !== 'check' || attempt === 'other') return none;
    const now = this.clock.nowMs();
    const s = this.settings;
    if (attempt === 'success') {
      const p = this.pairs.getOrCreate(gate.pairKey, now);
      // The client got it right: its own count and remembered passwords go. The name's and the
      // address's counts stay (an attacker's own account must not wash an address clean).
      p.failures = 0;
      p.recent = [0, 0, 0, 0];
      if (s.knownGoodForMs > 0) p.goodUntilMs = now + s.knownGoodForMs;
      return none;
    }
    const p = this.pairs.getOrCreate(gate.pairKey, now);
    const keyed = [p, this.users.getOrCreate(gate.userKey, now)];
    if (gate.address !== null) keyed.push(this.addresses.getOrCreate(gate.address.key, now));
    if (secret !== null && this.seenBefore(p, gate.pairKey, secret)) {
      this.totals.repeats++;
      const failures = Math.max(...keyed.map((e) => this.current(e, now)));
      return { delayMs: this.delayFor(failures), counted: false, failures };
    }
    for (const e of keyed) this.count(e, now, e === keyed[1] ? s.userRefuseAfter : s.refuseAfter);
    this.totals.counted++;
    const failures = Math.max(...keyed.map((e) => e.failures));
    const delayMs = this.delayFor(failures);
    if (delayMs > 0) this.totals.delayed++;
    return { delayMs, counted: true, failures };
  }

  private refused(why: string): Gate {
    this.totals.refused++;
    return { kind: 'refuse', why };
  }

  /** The count as it stands now: forgotten after forget_after without a failure. */
  private current(e: Entry, now: number): number {
    return now - e.lastFailureMs > this.settings.forgetAfterMs ? 0 : e.failures;
  }

  private count(e: Entry, now: number, limit: number): void {
    e.failures = this.current(e, now) + 1;
    e.lastFailureMs = now;
    if (e.failures >= limit) {
      e.lockedUntilMs = now + this.settings.refuseForMs;
      // After the lock one more failure locks again, until forget_after passes quietly.
      e.failures = limit - 1;
    }
  }

  delayFor(failures: number): number {
    const s = this.settings;
    if (failures <= s.delayAfter) return 0;
    const steps = Math.min(failures - s.delayAfter, 16);
    return Math.min(THROTTLE_BASE_DELAY_MS * 2 ** steps, s.maxDelayMs);
  }

  /** Whether this wrong password was among the last few from this name and address; remembers it. */
  private seenBefore(p: Entry, pairKey: string, secret: Buffer): boolean {
    const mac = crypto.createHmac('sha256', this.digestKey).update(pairKey).update('\u0000').update(secret).digest();
    // Never 0, which marks an empty slot.
    const digest = mac.readUIntBE(0, 6) || 1;
    mac.fill(0);
    if (p.recent.includes(digest)) return true;
    p.recent[p.recentNext] = digest;
    p.recentNext = (p.recentNext + 1) % RECENT;
    return false;
  }
}
