// Tells kept connections that wait for an account request that the worker is stopping, so they
// close at once instead of holding the stop back. Lighter than an AbortSignal, whose listeners
// cost more than the wait itself on every connection.
export class StopSignal {
  private readonly waiting = new Set<() => void>();
  private done = false;

  get stopped(): boolean {
    return this.done;
  }

  stop(): void {
    this.done = true;
    for (const f of this.waiting) f();
    this.waiting.clear();
  }

  /** Calls f when the worker stops; returns what cancels that. */
  onStop(f: () => void): () => void {
    this.waiting.add(f);
    return () => { this.waiting.delete(f); };
  }
}
