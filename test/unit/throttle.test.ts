// The cross-service throttle (src/worker/throttle.ts) with a fake clock: counting, the doubling
// delay, refusal and its end, repeated wrong passwords, one user attacked from many addresses,
// trusted and denied addresses, bounded memory; and through decide(), PAM_MAXTRIES without
// asking the store.
import crypto from 'crypto';
import { DEFAULT_THROTTLE, parseCidr, ThrottleSettings } from '../../src/config/throttle';
import { parseConfigText } from '../../src/config/load';
import { clientAddress } from '../../src/worker/throttle-address';
import { Attempt, Gate, Throttle } from '../../src/worker/throttle';
import { decide, PolicyContext } from '../../src/worker/policy';
import { PamRequest } from '../../src/protocol/messages';
import { Lookup, Store, Verification } from '../../src/stores/store';

class FakeClock {
  ms = 1_000_000;
  nowMs(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

function settings(extra: Partial<ThrottleSettings> = {}): ThrottleSettings {
  return { ...DEFAULT_THROTTLE, ...extra };
}

let clock: FakeClock;
let t: Throttle;
beforeEach(() => {
  clock = new FakeClock();
  t = new Throttle(settings(), clock);
});

/** One attempt as the policy makes it: the gate, then (unless refused) the record. */
function attempt(user: string, rhost: string, password: string, right = 'secret'): { gate: Gate; delayMs: number; counted: boolean } {
  const gate = t.gate(user, rhost);
  if (gate.kind === 'refuse') return { gate, delayMs: 0, counted: false };
  const kind: Attempt = password === right ? 'success' : 'failure';
  const r = t.record(gate, kind, Buffer.from(password));
  return { gate, ...r };
}

describe('one address guessing one user', () => {
  test('failures past delay_after are delayed, doubling from 4 s to the 15 s cap; at refuse_after the address is refused', () => {
    const delays: number[] = [];
    for (let i = 1; i <= 9; i++) delays.push(attempt('alice', '198.51.100.7', `guess${i}`).delayMs);
    expect(delays).toEqual([0, 0, 0, 4000, 8000, 15000, 15000, 15000, 15000]);
    const tenth = attempt('alice', '198.51.100.7', 'guess10');
    expect(tenth.gate.kind).toBe('check');
    const refused = t.gate('alice', '198.51.100.7');
    expect(refused).toEqual({ kind: 'refuse', why: expect.stringMatching(/^10 failures from this address; refused for 900 s more$/) });
    // The right password from the locked address is refused too: it is not checked at all.
    expect(attempt('alice', '198.51.100.7', 'secret').gate.kind).toBe('refuse');
  });

  test('the refusal ends after refuse_for; one more failure locks again; forget_after of quiet forgets', () => {
    for (let i = 1; i <= 10; i++) attempt('alice', '198.51.100.7', `guess${i}`);
    clock.advance(899);
    expect(t.gate('alice', '198.51.100.7').kind).toBe('refuse');
    clock.advance(2);
    expect(t.gate('alice', '198.51.100.7').kind).toBe('check');
    attempt('alice', '198.51.100.7', 'guess11');
    expect(t.gate('alice', '198.51.100.7').kind).toBe('refuse');
    clock.advance(900 + 3600 + 1);
    const after = attempt('alice', '198.51.100.7', 'guess12');
    expect(after.gate.kind).toBe('check');
    expect(after.delayMs).toBe(0);
  });

  test('another user from another address is untouched, and the attacked user from another address too', () => {
    for (let i = 1; i <= 10; i++) attempt('alice', '198.51.100.7', `guess${i}`);
    expect(t.gate('bob', '203.0.113.9').kind).toBe('check');
    expect(t.gate('alice', '203.0.113.9').kind).toBe('check');
    expect(attempt('alice', '203.0.113.9', 'secret').delayMs).toBe(0);
  });

  test('a right password is never given a delay, even past the threshold', () => {
    for (let i = 1; i <= 8; i++) attempt('alice', '198.51.100.7', `guess${i}`);
    expect(attempt('alice', '198.51.100.7', 'secret')).toMatchObject({ delayMs: 0, gate: { kind: 'check' } });
  });

  test('user names are counted up to ASCII case, as the stores compare them', () => {
    for (let i = 1; i <= 10; i++) attempt(i % 2 === 0 ? 'ALICE' : 'Alice', '', `guess${i}`);
    expect(t.gate('alice', '').kind).toBe('refuse');
  });
});

describe('a repeated identical wrong password counts once', () => {
  test('a client retrying one old saved password is never delayed past the first steps nor locked out', () => {
    for (let i = 0; i < 200; i++) {
      const a = attempt('alice', '198.51.100.7', 'old-password');
      expect(a.gate.kind).toBe('check');
      expect(a.counted).toBe(i === 0);
      expect(a.delayMs).toBe(0);
    }
    // It still logs in once the user types the new one.
    expect(attempt('alice', '198.51.100.7', 'secret').gate.kind).toBe('check');
  });
  test('the same password from another address is a new guess there (the digest is per name and address)', () => {
    attempt('alice', '198.51.100.7', 'old-password');
    expect(attempt('alice', '198.51.100.8', 'old-password').counted).toBe(true);
  });
  test('the throttle keeps no password: the remembered digests are keyed, not the password or a plain hash', () => {
    attempt('alice', '198.51.100.7', 'old-password');
    const state = JSON.stringify([...(t as unknown as { pairs: { entries(): Iterable<unknown> } }).pairs.entries()]);
    expect(state).not.toContain('old-password');
    const plain = crypto.createHash('sha256').update('old-password').digest();
    expect(state).not.toContain(String(plain.readUIntBE(0, 6)));
  });
});

describe('one user attacked from many addresses', () => {
  test('the name is refused from unknown addresses at user_refuse_after, but its known-good address still gets in', () => {
    // alice logged in from her own address before the attack.
    expect(attempt('alice', '192.0.2.10', 'secret').gate.kind).toBe('check');
    // 30 addresses, one guess each: no address reaches refuse_after.
    for (let i = 1; i <= 30; i++) attempt('alice', `198.51.100.${i}`, `guess${i}`);
    const fromNew = t.gate('alice', '198.51.100.200');
    expect(fromNew).toEqual({ kind: 'refuse', why: expect.stringMatching(/^30 failures for this user from several addresses, and this address is not known good for it/) });
    expect(t.gate('alice', '192.0.2.10').kind).toBe('check');
    expect(t.gate('bob', '198.51.100.200').kind).toBe('check');
  });
  test('a known-good address guessing wrong itself is still refused at refuse_after', () => {
    attempt('alice', '192.0.2.10', 'secret');
    for (let i = 1; i <= 10; i++) attempt('alice', '192.0.2.10', `guess${i}`);
    expect(t.gate('alice', '192.0.2.10').kind).toBe('refuse');
  });
});

describe('trusted networks and the deny list', () => {
  test('a trusted address is never counted, delayed or refused; a denied one is always refused', () => {
    t.configure(settings({ trustedNetworks: [parseCidr('10.0.0.0/8')!], deny: [parseCidr('2001:db8:bad::/48')!] }));
    for (let i = 1; i <= 50; i++) expect(attempt('alice', '10.1.2.3', `guess${i}`)).toMatchObject({ delayMs: 0, counted: false, gate: { kind: 'exempt' } });
    expect(t.gate('alice', '2001:db8:bad:1::5')).toEqual({ kind: 'refuse', why: 'the client address is on the deny list' });
    expect(t.gate('alice', '2001:db8:bad:1::5').kind).toBe('refuse');
    expect(t.gate('alice', '2001:db8:beef::5').kind).toBe('check');
  });
  test('with enabled = no nothing is counted, but the deny list still refuses', () => {
    t.configure(settings({ enabled: false, deny: [parseCidr('192.0.2.66')!] }));
    for (let i = 1; i <= 50; i++) expect(attempt('alice', '198.51.100.7', `guess${i}`).gate.kind).toBe('exempt');
    expect(t.gate('alice', '192.0.2.66').kind).toBe('refuse');
  });
  test('a reload keeps the counts', () => {
    for (let i = 1; i <= 10; i++) attempt('alice', '198.51.100.7', `guess${i}`);
    t.configure(settings());
    expect(t.gate('alice', '198.51.100.7').kind).toBe('refuse');
  });
});

describe('client addresses', () => {
  test.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::9]', '2001:db8:1:2::/64'],
    ['Mail.Example.ORG', 'host:mail.example.org'],
  ])('%s counts as %s', (rhost, key) => {
    expect(clientAddress(rhost)?.key).toBe(key);
  });
  test('no PAM_RHOST (saslauthd) has no address key', () => {
    expect(clientAddress('')).toBeNull();
  });
  test('addresses in one /64 share a count', () => {
    for (let i = 1; i <= 10; i++) attempt(`user${i}`, `2001:db8:1:2::${i.toString(16)}`, 'guess');
    expect(t.gate('zed', '2001:db8:1:2:ffff::1').kind).toBe('refuse');
    expect(t.gate('zed', '2001:db8:1:3::1').kind).toBe('check');
  });
  test('the config refuses what is not an address block', () => {
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('example.org')).toBeNull();
    expect(parseCidr('2001:db8::/129')).toBeNull();
    expect(parseCidr('2001:db8::/32')).toEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' });
  });
});

describe('bounded memory', () => {
  test('1,000,000 distinct names from distinct addresses keep each table at max_entries, and a lock survives the flood', () => {
    t.configure(settings({ maxEntries: 10_000 }));
    for (let i = 1; i <= 10; i++) attempt('alice', '198.51.100.7', `guess${i}`);
    for (let i = 0; i < 1_000_000; i++) {
      const g = t.gate(`u${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (g.kind === 'check') t.record(g, 'failure', null);
    }
    const sizes = t.sizes();
    for (const n of [sizes.addresses, sizes.users, sizes.pairs]) expect(n).toBeLessThanOrEqual(10_000);
    expect(t.gate('alice', '198.51.100.7').kind).toBe('refuse');
  }, 120000);
});

/** A store with one user, counting what it is asked. */
class OneUserStore implements Store {
  readonly type = 'fake';
  readonly defaultDisabledFeatures: readonly string[] = [];
  asked = 0;
  async verify(login: string, password: Buffer): Promise<Verification> {
    this.asked++;
    if (login !== 'alice') return { found: false };
    return { found: true, passwordOk: password.equals(Buffer.from('secret')), user: { login, state: 'active', features: { enabled: [], disabled: [] } } };
  }
  async lookup(): Promise<Lookup> {
    return { found: false };
  }
  async close(): Promise<void> {}
}

describe('through decide()', () => {
  const store = new OneUserStore();
  const ctx = (): PolicyContext => ({ stores: new Map<string, Store>([['', store]]), storeTimeoutMs: 1000, configFile: '/etc/pam_mapi.conf', accountReuseMs: 0, throttle: t });
  const run = (user: string, password: string, rhost: string): ReturnType<typeof decide> => {
    const req: PamRequest = {
      op: 'authenticate', service: 'imap', user: Buffer.from(user), rhost, ruser: '', tty: '', logname: '', uid: 0, euid: 0,
      args: ['use_first_pass'], argsTruncated: false, password: { kind: 'ok', from: 'earlier', secret: Buffer.from(password) },
    };
    return decide(req, ctx());
  };
  test('failures get the longer fail delay; past refuse_after PAM_MAXTRIES without asking the store, with a line of its own', async () => {
    const delays: number[] = [];
    for (let i = 1; i <= 10; i++) delays.push((await run('alice', `guess${i}`, '198.51.100.7')).delayUsec);
    expect(delays).toEqual([2e6, 2e6, 2e6, 4e6, 8e6, 15e6, 15e6, 15e6, 15e6, 15e6]);
    const before = store.asked;
    const refused = await run('alice', 'secret', '198.51.100.7');
    expect(store.asked).toBe(before);
    expect(refused.result).toBe('MAXTRIES');
    expect(refused.throttle).toBe('refused');
    expect(refused.delayUsec).toBe(2e6);
    expect(refused.logs.map((l) => l.text)).toEqual([
      expect.stringMatching(/^authentication failure; .*rhost=198\.51\.100\.7 user=alice$/),
      'refused by the throttle, the password was not checked: 10 failures from this address; refused for 900 s more; client=198.51.100.7 user=alice',
    ]);
    // An unknown name from another address counts there too, and the user elsewhere is untouched.
    expect((await run('alice', 'secret', '203.0.113.1')).result).toBe('SUCCESS');
    expect((await run('nobody', 'x', '203.0.113.1')).result).toBe('USER_UNKNOWN');
  });
});

describe('the [throttle] section', () => {
  test('defaults without the section; every key read; wrong values refused with the key named', () => {
    expect(parseConfigText('', '/etc/pam_mapi.conf', []).throttle).toEqual(DEFAULT_THROTTLE);
    const t2 = parseConfigText('[throttle]\nenabled = no\ndelay_after = 2\nmax_delay = 4\nrefuse_after = 5\nrefuse_for = 60\nuser_refuse_after = 9\nforget_after = 600\nknown_good_for = 0\ntrusted_networks = 127.0.0.0/8, ::1\ndeny = 192.0.2.66\nmax_entries = 1000\n', 'f', []).throttle;
    expect(t2).toEqual({ enabled: false, delayAfter: 2, maxDelayMs: 4000, refuseAfter: 5, refuseForMs: 60000, userRefuseAfter: 9, forgetAfterMs: 600000, knownGoodForMs: 0,
      trustedNetworks: [{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }, { address: '::1', prefix: 128, family: 'ipv6' }], deny: [{ address: '192.0.2.66', prefix: 32, family: 'ipv4' }], maxEntries: 1000 });
    expect(() => parseConfigText('[throttle]\ntrusted_networks = example.org\n', 'f', [])).toThrow(/\[throttle\] trusted_networks: "example.org" is not an address/);
    expect(() => parseConfigText('[throttle]\nrefuse_after = 2\n', 'f', [])).toThrow(/\[throttle\] refuse_after: 2 is below delay_after/);
    expect(() => parseConfigText('[throttle]\nrefuse_afte = 2\n', 'f', [])).toThrow(/\[throttle\] refuse_afte: unknown key/);
  });
});
