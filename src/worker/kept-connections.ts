// The connections kept open after a successful authentication, waiting for the account request
// of the same PAM transaction: how many there are, so an application that never calls
// pam_acct_mgmt nor pam_end cannot pile up descriptors, and closing them at once when the worker
// stops, instead of holding the stop back. (A plain set of callbacks: an AbortSignal's listeners
// cost more than the wait itself on every connection.)

/** How long a connection stays open after a successful authentication, for the account
 * request of the same PAM transaction (RESULT's KEEP_MS). The module uses it in the first half. */
export const KEEP_FOR_ACCOUNT_MS = 5000;

/** Beyond this many waiting, a successful authentication closes its connection as before. */
export const MAX_KEPT_CONNECTIONS = 1024;

export class KeptConnections {
  private readonly waiting = new Set<() => void>();
  private done = false;

  get stopped(): boolean {
    return this.done;
  }

  /** Whether one more connection may be kept now. */
  get roomForOne(): boolean {
    return !this.done && this.waiting.size < MAX_KEPT_CONNECTIONS;
  }

  stop(): void {
    this.done = true;
    for (const f of this.waiting) f();
    this.waiting.clear();
  }

  /** Registers a waiting connection: f is called when the worker stops. Returns what ends the
   * wait (call it once the connection is used or closed). */
  wait(f: () => void): () => void {
    this.waiting.add(f);
    return () => { this.waiting.delete(f); };
  }
}
