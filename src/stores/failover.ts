// Several servers behind one store, tried in the configured order. A server that fails is
// skipped for RETRY_DOWN_MS, then tried first again, so service returns to the first server once
// it is back. An outage is logged once (store.host_down), and its end (store.host_back).
import { Fields, Level } from '../log/logger';

export const RETRY_DOWN_MS = 2000;

export class Failover<T> {
  private readonly downUntil: Map<T, number>;

  constructor(
    readonly hosts: readonly T[],
    private readonly label: (host: T) => string,
    private readonly log: (level: Level, event: string, fields?: Fields) => void,
  ) {
    this.downUntil = new Map(hosts.map((h) => [h, 0]));
  }

  /** The servers to try now, in order: those not skipped, or all of them when every one is. */
  order(now: number): T[] {
    const up = this.hosts.filter((h) => (this.downUntil.get(h) ?? 0) <= now);
    return up.length > 0 ? up : [...this.hosts];
  }

  succeeded(host: T): void {
    if (this.downUntil.get(host) === 0) return;
    this.downUntil.set(host, 0);
    this.log('notice', 'store.host_back', { host: this.label(host) });
  }

  /** since: when the request began; a server already skipped then is not reported again. */
  failed(host: T, message: string, since: number): void {
    if ((this.downUntil.get(host) ?? 0) <= since) this.log('warning', 'store.host_down', { host: this.label(host), message });
    this.downUntil.set(host, Date.now() + RETRY_DOWN_MS);
  }

  /** All servers, for messages. */
  describe(): string {
    return this.hosts.map(this.label).join(', ');
  }
}
