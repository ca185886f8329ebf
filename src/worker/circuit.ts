// A circuit breaker per store: after FAILURES_TO_OPEN answers in a row that were "unavailable"
// (down, timed out), the store is not asked again; requests get the offline cache's answer or
// PAM_AUTHINFO_UNAVAIL at once instead of each waiting store_timeout. A probe (a lookup of a
// name nobody has) asks the store every PROBE_EVERY_MS in the background until it answers,
// then the circuit closes. Each change is logged once (store.circuit_open / store.circuit_closed).
import { Fields, Level } from '../log/logger';
import { Store, StoreUnavailableError } from '../stores/store';
import { withDeadline } from './deadline';

export const FAILURES_TO_OPEN = 3;
export const PROBE_EVERY_MS = 2000;
/** A name under .invalid (reserved by RFC 2606), so no store holds it: the probe only wants an
 * answer, found or not. */
const PROBE_LOGIN = 'pam-mapi-probe.invalid';

type Log = (level: Level, event: string, fields?: Fields) => void;

export class Circuit {
  private failures = 0;
  private openSince: number | null = null;
  private probe: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly timeoutMs: () => number,
    private readonly log: Log,
  ) {}

  get isOpen(): boolean {
    return this.openSince !== null;
  }

  /** Throws StoreUnavailableError at once while open. */
  check(): void {
    if (this.openSince !== null) {
      throw new StoreUnavailableError(`not asked: the store failed ${FAILURES_TO_OPEN} times in a row and is probed every ${PROBE_EVERY_MS} ms until it answers`);
    }
  }

  answered(): void {
    this.failures = 0;
    if (this.openSince !== null) this.close();
  }

  unavailable(message: string): void {
    this.failures++;
    if (this.openSince === null && this.failures >= FAILURES_TO_OPEN) {
      this.openSince = Date.now();
      this.log('warning', 'store.circuit_open', { failures: this.failures, message });
      this.schedule();
    }
  }

  private close(): void {
    const ms = this.openSince === null ? 0 : Date.now() - this.openSince;
    this.openSince = null;
    this.failures = 0;
    if (this.probe !== null) clearTimeout(this.probe);
    this.probe = null;
    this.log('notice', 'store.circuit_closed', { open_ms: ms });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.probe = setTimeout(() => {
      this.probe = null;
      withDeadline(this.timeoutMs(), (signal) => this.store.lookup(PROBE_LOGIN, signal)).then(
        () => this.answered(),
        () => { if (this.openSince !== null) this.schedule(); },
      );
    }, PROBE_EVERY_MS);
    this.probe.unref();
  }

  /** The store is closed (a reload, the worker stopping): no more probes. */
  stop(): void {
    this.stopped = true;
    if (this.probe !== null) clearTimeout(this.probe);
    this.probe = null;
  }
}
