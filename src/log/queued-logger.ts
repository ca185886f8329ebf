// The worker's log writer: the info and debug lines of one turn of the event loop (a line per
// request) are written together, in one write to standard error after that turn's answers have
// gone out (setImmediate), rather than one synchronous write each in the middle of a request.
// A rarer line that matters now (notice, warning, error: a store down, a reload) is written at
// once, after what is queued, so the order stays. Nothing is lost at exit: what is still
// queued is written, synchronously, by the process's 'exit' handler (process.exit, a stop
// signal's handler, an uncaught exception).
import { Fields, formatLine, Level, Logger } from './logger';

export class QueuedLogger implements Logger {
  private pending = '';
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(
    /** Whether debug events are written; callers check it before building a debug line. */
    readonly debugEnabled = false,
    private readonly out: (text: string) => void = (text) => { process.stderr.write(text); },
  ) {
    process.on('exit', this.flushNow);
  }

  log(level: Level, event: string, fields?: Fields): void {
    if (level === 'debug' && !this.debugEnabled) return;
    this.pending += formatLine(level, event, fields) + '\n';
    if (level !== 'info' && level !== 'debug') {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
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
