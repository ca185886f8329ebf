// The LDAP store's kept entries (entry-cache.ts) and their setting, entry_cache_timeout: bounded
// in number and age, on a clock the test drives; never a password hash.
import { SectionReader } from '../../src/config/section';
import { EntryCache, MAX_ENTRIES } from '../../src/stores/ldap/entry-cache';
import { parseLdapSettings } from '../../src/stores/ldap/settings';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const entry = (n: number): { dn: string; uid: string; userPassword: Buffer } => ({ dn: `uid=u${n},dc=example,dc=org`, uid: `u${n}`, userPassword: Buffer.from('{SSHA}hash') });

describe('EntryCache', () => {
  test('an entry is answered until its timeout, then never again', () => {
    const c = clock();
    const cache = new EntryCache(5000, 10, c.now);
    cache.put('u1', entry(1));
    c.advance(4999);
    expect(cache.get('u1')?.entry.dn).toBe('uid=u1,dc=example,dc=org');
    c.advance(1);
    expect(cache.get('u1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('a clock that goes back does not make an entry young forever', () => {
    const c = clock();
    const cache = new EntryCache(5000, 10, c.now);
    cache.put('u1', entry(1));
    c.advance(-1);
    expect(cache.get('u1')).toBeUndefined();
  });

  test('at most maxEntries: the oldest read goes first, a re-read one moves to the end', () => {
    const cache = new EntryCache(5000, 3, clock().now);
    for (const n of [1, 2, 3]) cache.put(`u${n}`, entry(n));
    cache.put('u1', entry(1));
    cache.put('u4', entry(4));
    expect(cache.size).toBe(3);
    expect(cache.get('u2')).toBeUndefined();
    expect(['u1', 'u3', 'u4'].map((u) => cache.get(u) !== undefined)).toEqual([true, true, true]);
  });

  test('the default bound holds under a flood of distinct names', () => {
    const cache = new EntryCache(5000);
    for (let n = 0; n < MAX_ENTRIES + 500; n++) cache.put(`u${n}`, entry(n));
    expect(cache.size).toBe(MAX_ENTRIES);
    expect(cache.get('u0')).toBeUndefined();
    expect(cache.get(`u${MAX_ENTRIES + 499}`)).toBeDefined();
  });

  test('userPassword is not kept, in any spelling of its name', () => {
    const cache = new EntryCache(5000, 10, clock().now);
    cache.put('u1', { dn: 'uid=u1', USERPASSWORD: 'x', userpassword: 'y', userPassword: 'z', uid: 'u1' });
    expect(cache.get('u1')?.entry).toEqual({ dn: 'uid=u1', uid: 'u1' });
  });

  test('timeout 0 keeps nothing; drop forgets one login', () => {
    const off = new EntryCache(0, 10, clock().now);
    expect(off.put('u1', entry(1)).entry.dn).toBe('uid=u1,dc=example,dc=org');
    expect(off.get('u1')).toBeUndefined();
    const on = new EntryCache(5000, 10, clock().now);
    on.put('u1', entry(1));
    on.drop('u1');
    expect(on.get('u1')).toBeUndefined();
  });
});

describe('entry_cache_timeout', () => {
  const read = (extra: Record<string, string>): number => parseLdapSettings(new SectionReader('test.conf', 'store', {
    type: 'ldap', uri: 'ldap://127.0.0.1', base: 'dc=example,dc=org', ...extra,
  })).entryCacheTimeoutMs;
  test('5 seconds by default; 0 turns it off; fractions allowed', () => {
    expect(read({})).toBe(5000);
    expect(read({ entry_cache_timeout: '0' })).toBe(0);
    expect(read({ entry_cache_timeout: '2.5' })).toBe(2500);
    expect(read({ entry_cache_timeout: '60' })).toBe(60000);
  });
  test('above 60 seconds, negative or not a number: refused, naming the key', () => {
    expect(() => read({ entry_cache_timeout: '61' })).toThrow(/entry_cache_timeout: 61 is outside \[0, 60\] seconds/);
    expect(() => read({ entry_cache_timeout: '-1' })).toThrow(/entry_cache_timeout: "-1" is not a number of seconds/);
    expect(() => read({ entry_cache_timeout: '5s' })).toThrow(/entry_cache_timeout: "5s" is not a number of seconds/);
  });
});
