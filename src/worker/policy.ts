// The decision for one PAM request: module options, password acquisition, store, outcome.
// This is where the contract's outcome table lives. Only a store that found the user, accepted
// the password, reports the account active and (with service=) a feature on, leads to SUCCESS.
import { LogEntry, PamRequest } from '../protocol/messages';
import { MAX_ARGS, ResultName } from '../protocol/constants';
import { anyFeatureEnabled } from '../stores/features';
import { Store, StoreUser } from '../stores/store';
import { checkPassword, checkUserName } from './input-rules';
import { ModuleOptions, parseModuleOptions } from './options';
import { escapeLogValue, failureLine, FIELD_BOUNDS, logField } from './syslog-line';
import { didYouMean } from '../config/suggest';
import { lookupUser, Resilience, verifyUser } from './resilient-store';
import { Throttle } from './throttle';
import { throttleRefusal, throttled } from './throttle-policy';

export interface PolicyContext {
  stores: ReadonlyMap<string, Store>;
  storeTimeoutMs: number;
  configFile: string;
  /** See EarlierAuth; 0 turns the reuse off. */
  accountReuseMs: number;
  /** Circuit breakers and offline caches (resilient-store.ts); none: ask the store only. */
  resilience?: Resilience;
  /** The cross-service throttle (throttle.ts); none: nothing is counted. */
  throttle?: Throttle;
}

/** What a successful authentication read from its store. The ACCOUNT request that follows it on
 * the same connection (the same PAM transaction) is answered from it when it asks the same
 * store about the same user within accountReuseMs, instead of reading the store a second time
 * milliseconds later (SSSD's pam_id_timeout does the same). */
export interface EarlierAuth {
  store: Store;
  user: Buffer;
  found: StoreUser;
  atMs: number;
  /** The authentication was answered from the offline cache. */
  offline?: boolean;
}

export interface Outcome {
  result: ResultName;
  delayUsec: number;
  /** Lines for the module to write with pam_syslog. */
  logs: LogEntry[];
  /** Why, for the worker's own log; never holds a password. */
  reason: string;
  store: string;
  /** The store and its record of the user, after a success (for EarlierAuth). */
  record?: { store: Store; found: StoreUser; offline?: boolean };
  /** The account request was answered from the earlier authentication (EarlierAuth). */
  reused?: boolean;
  /** Answered from the offline cache because the store could not answer. */
  offline?: boolean;
  /** What the throttle did: refused, delayed, repeat (a repeated wrong password, not counted). */
  throttle?: 'refused' | 'delayed' | 'repeat';
}

/** pam_unix asks libpam for this delay before every authentication; so do we, unless nodelay. */
export const FAIL_DELAY_USEC = 2_000_000;

export class Decision {
  readonly logs: LogEntry[] = [];
  offline = false;

  constructor(
    readonly req: PamRequest,
    readonly opts: ModuleOptions,
    readonly storeName: string,
  ) {}

  debug(text: string): void {
    if (this.opts.debug) this.logs.push({ level: 'DEBUG', text });
  }

  finish(result: ResultName, reason: string): Outcome {
    const delayUsec = this.req.op === 'authenticate' && !this.opts.nodelay ? FAIL_DELAY_USEC : 0;
    this.debug(`${this.req.op}: ${result} (${reason})`);
    // In the module's syslog line too, so auth.log and pam-mapi check show it.
    if (this.offline) this.logs.push({ level: 'NOTICE', text: `store unavailable: answered from the offline cache; user=${logField(this.req.user ?? Buffer.alloc(0), FIELD_BOUNDS.user)}` });
    // Every field of Outcome, always in this order: one object shape for every answer (admit
    // and the throttle fill theirs in place rather than spread into a new shape).
    return { result, delayUsec, logs: this.logs, reason, store: this.storeName || 'default', record: undefined, reused: undefined, offline: this.offline || undefined, throttle: undefined };
  }

  /** An ordinary failure: logged in pam_unix's format unless quiet. */
  refuse(result: ResultName, reason: string): Outcome {
    if (!this.opts.quiet) {
      if (this.req.op === 'authenticate') this.logs.push({ level: 'NOTICE', text: failureLine(this.req, this.req.user) });
      else if (result !== 'USER_UNKNOWN') {
        this.logs.push({ level: 'NOTICE', text: `account refused: ${reason}; user=${logField(this.req.user ?? Buffer.alloc(0), FIELD_BOUNDS.user)}` });
      }
    }
    return this.finish(result, reason);
  }

  /** The application could not give us a password: an error, but not the store's. */
  convError(): Outcome {
    this.logs.push({ level: 'ERR', text: 'the conversation failed: cannot get the password' });
    return this.finish('CONV_ERR', 'conversation failed');
  }

  /** An error: always logged with its cause, and never a success. */
  error(cause: string): Outcome {
    this.logs.push({ level: 'ERR', text: cause });
    return this.finish('AUTHINFO_UNAVAIL', cause);
  }
}

/** The outcome of one request. The password the request carries is wiped when it is known,
 * whichever way the decision went (many refusals come before the password is looked at). */
export async function decide(req: PamRequest, ctx: PolicyContext, earlier?: EarlierAuth): Promise<Outcome> {
  try {
    return await decideRequest(req, ctx, earlier);
  } finally {
    if (req.password?.kind === 'ok') req.password.secret.fill(0);
  }
}

async function decideRequest(req: PamRequest, ctx: PolicyContext, earlier?: EarlierAuth): Promise<Outcome> {
  const opts = parseModuleOptions(req.args);
  const d = new Decision(req, opts, opts.store);
  optionErrors(d, opts);
  if (req.argsTruncated) return d.error(`more than ${MAX_ARGS} module arguments: refusing a line that cannot be read whole`);
  if (opts.fatal.length > 0) return d.error(opts.fatal.map((f) => escapeLogValue(f, true)).join('; '));
  if (opts.legacySocket !== null) d.debug(`socket=${escapeLogValue(opts.legacySocket, false)} is the original module's server URL; ignored`);

  const store = ctx.stores.get(opts.store);
  if (store === undefined) {
    return d.error(opts.store === ''
      ? `no default store: ${ctx.configFile} has no [store] section, so this line needs store=NAME`
      : `store=${opts.store}: there is no [store.${opts.store}] section in ${ctx.configFile}`);
  }

  const user = checkUserName(req.user);
  if (!user.ok) return d.refuse('USER_UNKNOWN', user.why);

  if (req.op === 'account') {
    if (earlier !== undefined && earlier.store === store && req.user !== null && earlier.user.equals(req.user)
      && performance.now() - earlier.atMs <= ctx.accountReuseMs) {
      d.debug('account: the store\'s answer to this transaction\'s authentication');
      d.offline = earlier.offline === true;
      const reused = admit(d, earlier.found, store);
      reused.reused = true;
      return reused;
    }
    let asked;
    try {
      asked = await lookupUser(ctx.resilience, store, ctx.storeTimeoutMs, user.name);
    } catch (e) {
      return d.error(`${store.type} store: ${(e as Error).message}`);
    }
    d.offline = asked.kind === 'offline';
    const found = asked.answer;
    if (!found.found) return d.refuse('USER_UNKNOWN', 'user not in the store');
    return admit(d, found.user, store);
  }

  // The module sent the password with the request: libpam's pam_get_authtok() got it before the
  // module connected (an earlier module's PAM_AUTHTOK, else a prompt; use_first_pass: no prompt).
  const password = req.password ?? { kind: 'conv_failed' };
  if (password.kind === 'conv_failed') return d.convError();
  if (password.kind === 'none') return d.refuse('AUTH_ERR', 'use_first_pass and no password from an earlier module');
  // The prompt itself was libpam's, in the module, before the request; the line keeps its text.
  d.debug(password.from === 'earlier' ? 'using the password of an earlier module' : 'prompting for the password');
  // decide() wipes it when the outcome is known.
  const secret = password.secret;
  const bad = checkPassword(secret);
  if (bad !== null) return d.refuse('AUTH_ERR', bad);
  const gate = ctx.throttle?.gate(user.name, req.rhost);
  if (gate?.kind === 'refuse') return throttleRefusal(d, gate.why);
  let asked;
  try {
    asked = await verifyUser(ctx.resilience, store, ctx.storeTimeoutMs, user.name, secret);
  } catch (e) {
    return d.error(`${store.type} store: ${(e as Error).message}`);
  }
  d.offline = asked.kind !== 'online';
  if (asked.kind === 'locked') return d.refuse('AUTH_ERR', `store unavailable and locked offline after offline_failed_attempts wrong passwords, until ${new Date(asked.untilMs).toISOString()}`);
  const verdict = asked.answer;
  let outcome: Outcome;
  // For the throttle: a wrong password or an unknown name is a guess; a right password is a
  // success whatever the account rules then said; a state refused before the password was
  // looked at is neither.
  let attempt: 'failure' | 'success' | 'other';
  if (!verdict.found) {
    outcome = d.refuse('USER_UNKNOWN', 'user not in the store');
    attempt = 'failure';
  } else if (verdict.passwordOk === 'unchecked') {
    // Never admit(): the password was not checked, so only a refusal by the state may follow.
    outcome = verdict.user.state === 'active' ? d.error(`${store.type} store: the password was not checked`) : refuseState(d, verdict.user);
    attempt = 'other';
  } else if (!verdict.passwordOk) {
    outcome = d.refuse('AUTH_ERR', 'wrong password');
    attempt = 'failure';
  } else {
    outcome = admit(d, verdict.user, store);
    attempt = outcome.result === 'SUCCESS' ? 'success' : 'other';
  }
  return gate === undefined ? outcome : throttled(outcome, ctx.throttle?.record(gate, attempt, secret));
}

/** One line each for the unknown and the invalid options, however many there are, so the
 * failure line always fits in the answer. */
function optionErrors(d: Decision, opts: ModuleOptions): void {
  if (opts.unknown.length > 0) {
    const hinted = opts.unknown.map((u) => {
      const right = opts.corrections.find((c) => c.wrong === u)?.right ?? null;
      return `${escapeLogValue(u, false)}${didYouMean(right)}`;
    });
    d.logs.push({ level: 'ERR', text: `unknown option ignored: ${hinted.join(' ')}` });
  }
  if (opts.invalid.length > 0) {
    d.logs.push({ level: 'ERR', text: `invalid option value ignored: ${opts.invalid.map((a) => escapeLogValue(a, false)).join(' ')}` });
  }
}

/** The account rules, shared by auth (after the password) and account. */
function admit(d: Decision, user: StoreUser, store: Store): Outcome {
  if (user.state !== 'active') return refuseState(d, user);
  if (d.opts.services !== null && !anyFeatureEnabled(d.opts.services, user.features, store.defaultDisabledFeatures)) {
    return d.refuse('PERM_DENIED', `none of the features ${d.opts.services.join('|')} is enabled`);
  }
  const accepted = d.finish('SUCCESS', 'accepted');
  accepted.record = { store, found: user, offline: d.offline || undefined };
  return accepted;
}

/** The refusal for an account that is not active. */
function refuseState(d: Decision, user: StoreUser): Outcome {
  switch (user.state) {
    case 'expired': return d.refuse('ACCT_EXPIRED', 'account has expired');
    // pam_unix and pam_krb5 answer so; the mail client cannot change it, so the log says it.
    case 'password_expired':
      if (!d.opts.quiet) d.logs.push({ level: 'NOTICE', text: `password expired: the user must change it before mail logins work; user=${logField(d.req.user ?? Buffer.alloc(0), FIELD_BOUNDS.user)}` });
      return d.refuse('NEW_AUTHTOK_REQD', 'the password has expired');
    default: return d.refuse('PERM_DENIED', 'account is not active');
  }
}
