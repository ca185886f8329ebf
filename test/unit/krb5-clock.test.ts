// The clock rule of Kerberos checks (src/stores/krb5/clock.ts): a ticket from a KDC further than
// clockskew from this host's clock, ahead or behind, is no answer about the user.
import { Krb5Answer } from '../../src/stores/krb5/addon';
import { outsideSkew, withClockRule } from '../../src/stores/krb5/clock';

const answer = (skew: number | null, maxSkew = 300): Krb5Answer => ({ kind: 'ok', code: 0, message: 'validated', skew, maxSkew, failures: [], answered: '127.0.0.1:88' });

test('within clockskew, at it, or with no ticket: the answer stands', () => {
  for (const skew of [null, 0, 300, -300, 299]) expect([skew, withClockRule(answer(skew)).kind]).toEqual([skew, 'ok']);
});

test('beyond clockskew either way: unavailable, the clocks named with the direction and the limit', () => {
  expect(withClockRule(answer(301))).toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/allowed skew \(300 s.*KDC's clock is 301 s ahead of this host's$/) });
  expect(withClockRule(answer(-3600))).toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/KDC's clock is 3600 s behind this host's$/) });
  expect(withClockRule(answer(121, 120)).message).toMatch(/allowed skew \(120 s/);
});

test('an answer that is not a success is refused all the same (an expired password learnt from a skewed KDC)', () => {
  expect(withClockRule({ ...answer(900), kind: 'password_expired' }).kind).toBe('unavailable');
  expect(outsideSkew({ skew: null, maxSkew: 0 })).toBe(false);
});
