// The worker's log writer: the info and debug lines of one turn of the event loop (a line per
// request) are written together, in one write to standard error after that turn's answers have
// gone out (turn-queue.ts), rather than one synchronous write each in the middle of a request.
// A rarer line that matters now (notice, warning, error: a store down, a reload) is written at
// once, after what is queued, so the order stays. Nothing is lost at exit.
import { Fields, formatLine, Level, Logger } from './logger';
import { TurnQueue } from './turn-queue';

export class QueuedLogger implements Logger {
  private readonly queue: TurnQueue;

  constructor(
    /** Whether debug events are written; callers check it before building a debug line. */
    readonly debugEnabled = false,
    out: (text: string) => void = (text) => { process.stderr.write(text); },
  ) {
    this.queue = new TurnQueue(out);
  }

  log(level: Level, event: string, fields?: Fields): void {
    if (level === 'debug' && !this.debugEnabled) return;
    const line = formatLine(level, event, fields) + '\n';
    if (level === 'info' || level === 'debug') this.queue.add(line);
    else this.queue.now(line);
  }

  /** Writes what is queued now. */
  flush(): void {
    this.queue.flush();
  }
}
