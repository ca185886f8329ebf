// The worker's `request` line: one per PAM transaction. An authentication whose connection is
// kept for the account request of the same transaction is held, and written with that
// request's answer as one line (its `account=` fields at the end), or alone when the connection
// ends without one. Every other request (a failure, an account request on a connection of its
// own) has its line at once, as before. One object shape for every line: each field is always
// set, undefined when it has no value (the logger leaves those out).
import { Fields, Level } from '../log/logger';
import { PamRequest } from '../protocol/messages';
import { Outcome } from './policy';
import { escapeLogValue } from './syslog-line';

/** One answered request, as the line needs it. */
export interface Answered {
  req: PamRequest;
  outcome: Outcome;
  ms: number;
}

export function requestLevel(first: Answered, account: Answered | undefined): Level {
  return first.outcome.result === 'AUTHINFO_UNAVAIL' || account?.outcome.result === 'AUTHINFO_UNAVAIL' ? 'error' : 'info';
}

/** The fields of the line for `first`, with the account request answered on its connection. */
export function requestFields(first: Answered, account: Answered | undefined): Fields {
  const { req, outcome: o } = first;
  const a = account?.outcome;
  return {
    op: req.op,
    service: req.service,
    user: escapeLogValue(req.user ?? Buffer.alloc(0), true),
    rhost: req.rhost || undefined,
    store: o.store,
    result: `PAM_${o.result}`,
    reason: o.reason,
    // On a line with account=: that request was answered from the authentication's record.
    reused: o.reused || a?.reused ? 'yes' : undefined,
    offline: o.offline || a?.offline ? 'yes' : undefined,
    throttle: o.throttle,
    delay_ms: o.throttle === undefined ? undefined : o.delayUsec / 1000,
    ms: first.ms.toFixed(2),
    account: a === undefined ? undefined : `PAM_${a.result}`,
    account_store: a === undefined || a.store === o.store ? undefined : a.store,
    account_reason: a?.reason,
    account_ms: account?.ms.toFixed(2),
  };
}
