// Text queued during one turn of the event loop and written in one go after it (setImmediate),
// once the turn's answers have gone out, instead of one synchronous write per line in the middle
// of a request. Whatever is still queued at exit is written by the process's 'exit' handler
// (process.exit, a stop signal's handler, an uncaught exception), so nothing is lost.
export class TurnQueue {
  private pending = '';
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly out: (text: string) => void) {
    process.on('exit', this.flushNow);
  }

  add(text: string): void {
    this.pending += text;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Writes text now, after what is queued: a line that must not wait schedules nothing. */
  now(text: string): void {
    this.pending += text;
    this.flush();
  }

  /** Writes what is queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out(text);
  }
}
