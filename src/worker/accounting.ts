// The accounting log ([worker] accounting_log): one JSON line per decision (Momentum's
// log_authentication), for the admin who must find out why a login failed, and for billing or
// audit. Never a password or its length. Rotation-safe: the file is opened O_APPEND, so after
// logrotate's copytruncate the next line starts at the new end (no hole of NULs), and SIGHUP
// (logrotate's postrotate) reopens the path after a rename. A write that fails is reported once
// in the worker's log and never changes a decision. The lines of one turn of the event loop are
// written together, after that turn's answers (turn-queue.ts); what is queued is written before
// a reopen and at exit.
import fs from 'fs';
import { escapeInvisible, Logger } from '../log/logger';
import { TurnQueue } from '../log/turn-queue';
import { ResultName } from '../protocol/constants';
import { escapeLogValue } from './syslog-line';

/** Dovecot's failure classes, and success. */
export type OutcomeClass = 'success' | 'credentials' | 'account' | 'expired' | 'disabled' | 'policy' | 'internal' | 'conversation';

const CLASSES: Record<ResultName, OutcomeClass> = {
  SUCCESS: 'success',
  AUTH_ERR: 'credentials',
  USER_UNKNOWN: 'account',
  ACCT_EXPIRED: 'expired',
  // Dovecot's class for a password that is right but must be changed first.
  NEW_AUTHTOK_REQD: 'expired',
  PERM_DENIED: 'disabled',
  MAXTRIES: 'policy',
  AUTHINFO_UNAVAIL: 'internal',
  CONV_ERR: 'conversation',
};

export function outcomeClass(result: ResultName): OutcomeClass {
  return CLASSES[result];
}

export interface Decision {
  op: 'authenticate' | 'account';
  service: string;
  user: Buffer | null;
  rhost: string;
  store: string;
  result: ResultName;
  reason: string;
  ms: number;
  throttle?: string;
  reused?: boolean;
}

/** The line for one decision. Client-given text is escaped as in the worker's log (invalid
 * UTF-8, controls and backslashes as \xNN), then JSON-quoted; bounded like the syslog line. */
export function accountingLine(d: Decision, at: Date): string {
  const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}\\...` : s);
  // Line and paragraph separators and bidi overrides, which JSON leaves as they are, escaped
  // as in the worker's log.
  return escapeInvisible(JSON.stringify({
    time: at.toISOString(),
    op: d.op,
    service: clip(escapeLogValue(d.service, true), 256),
    user: clip(escapeLogValue(d.user ?? Buffer.alloc(0), true), 512),
    rhost: clip(escapeLogValue(d.rhost, true), 1024),
    store: d.store,
    class: CLASSES[d.result],
    pam: `PAM_${d.result}`,
    reason: d.reason,
    ms: Math.round(d.ms * 100) / 100,
    throttled: d.throttle === 'refused' || d.throttle === 'delayed',
    ...(d.throttle !== undefined ? { throttle: d.throttle } : {}),
    ...(d.reused ? { reused: true } : {}),
  })) + '\n';
}

export class AccountingLog {
  private fd: number | null = null;
  private failing = false;
  private readonly queue = new TurnQueue((text) => this.append(text));

  constructor(private path: string | null, private readonly logger: Logger) {
    this.open();
  }

  /** Closes the file and opens the path (the new one after a reload) again. */
  reopen(path: string | null): void {
    this.flush();
    this.close();
    this.path = path;
    this.failing = false;
    this.open();
  }

  private open(): void {
    if (this.path === null) return;
    try {
      // O_NOFOLLOW: a link put in the log directory does not send the lines elsewhere.
      this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o640);
    } catch (e) {
      this.report(e as Error);
    }
  }

  write(d: Decision): void {
    if (this.fd === null) return;
    this.queue.add(accountingLine(d, new Date()));
  }

  /** Writes what is queued now. */
  flush(): void {
    this.queue.flush();
  }

  private append(text: string): void {
    if (this.fd === null) return;
    try {
      fs.writeSync(this.fd, text);
    } catch (e) {
      this.report(e as Error);
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== null) {
      try { fs.closeSync(this.fd); } catch { /* already gone */ }
      this.fd = null;
    }
  }

  private report(e: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.log('error', 'accounting.failed', { file: this.path ?? '', message: e.message });
  }
}
