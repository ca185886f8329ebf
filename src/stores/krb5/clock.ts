// The clock rule of every Kerberos check (the krb5 store, the ldap store's auth_method =
// kerberos, the doctor): a KDC whose clock is further from this host's than krb5.conf's
// clockskew allows gets no login through, even where MIT krb5 adjusted to the KDC's clock.
// With pre-authentication (Active Directory's default) the library takes the KDC's time from
// the "preauthentication required" error and stamps its request with it (kdc_timesync, on by
// default), so neither the KDC nor the library notices the skew; the ticket's authtime still
// shows it, and the addon reports it (native/krb5/krb5_check.cc). Why it matters:
// docs/security.md, "Clock skew".
import { Krb5Answer } from './addon';

/** Whether the KDC that issued a ticket in this answer had a clock out of the allowed skew. */
export function outsideSkew(a: Pick<Krb5Answer, 'skew' | 'maxSkew'>): boolean {
  return a.skew !== null && Math.abs(a.skew) > a.maxSkew;
}

/** The cause as the log and the doctor say it (the same words as the addon's for a KDC that
 * refused our time itself). */
export function clockMessage(skew: number, maxSkew: number): string {
  const way = skew > 0 ? 'ahead of' : 'behind';
  return `the clocks of this host and the KDC differ by more than the allowed skew (${maxSkew} s; run chrony or timesyncd): the KDC's clock is ${Math.abs(skew)} s ${way} this host's`;
}

/** The answer with the rule applied: a ticket from a KDC out of skew is no answer about the
 * user (PAM_AUTHINFO_UNAVAIL), whatever the KDC said. */
export function withClockRule(a: Krb5Answer): Krb5Answer {
  if (a.skew === null || !outsideSkew(a)) return a;
  return { ...a, kind: 'unavailable', message: clockMessage(a.skew, a.maxSkew) };
}
