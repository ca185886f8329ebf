// Where the throttle's answers become outcomes: a refusal without checking the password
// (PAM_MAXTRIES, with a line of its own), and the longer fail delay of a counted failure.
import type { Decision, Outcome } from './policy';
import { Recorded } from './throttle';
import { FIELD_BOUNDS, logField } from './syslog-line';

/** PAM_MAXTRIES, not PAM_AUTH_ERR: the service's own log then says "Have exhausted maximum
 * number of retries" and the admin sees why a right password was refused; the client is told
 * what it is told for a wrong password (Dovecot and saslauthd answer every other failure
 * alike), so an attacker learns nothing from it. The pam_unix-style failure line is still
 * written (unless quiet), so fail2ban goes on counting the address. */
export function throttleRefusal(d: Decision, why: string): Outcome {
  const user = logField(d.req.user ?? Buffer.alloc(0), FIELD_BOUNDS.user);
  const rhost = logField(d.req.rhost, FIELD_BOUNDS.rhost);
  const outcome = d.refuse('MAXTRIES', `throttled: ${why}`);
  outcome.logs.push({ level: 'NOTICE', text: `refused by the throttle, the password was not checked: ${why}; client=${rhost} user=${user}` });
  outcome.throttle = 'refused';
  return outcome;
}

/** The outcome with the throttle's fail delay, when it asks for a longer one. libpam applies it
 * only to a failure, in the calling process. */
export function throttled(outcome: Outcome, recorded: Recorded | undefined): Outcome {
  if (recorded === undefined || outcome.result === 'SUCCESS') return outcome;
  // Only a delay that is asked for is lengthened: with nodelay (the service delays failures
  // itself, as Dovecot does) none is asked for, and the refusal alone bounds the guesses.
  const delayUsec = outcome.delayUsec === 0 ? 0 : Math.max(outcome.delayUsec, recorded.delayMs * 1000);
  const throttle = !recorded.counted && recorded.failures > 0 ? 'repeat' : recorded.delayMs > 0 ? 'delayed' : undefined;
  outcome.delayUsec = delayUsec;
  outcome.throttle = throttle;
  return outcome;
}
