// An event a peer can cause as often as it likes (a connection turned away, a peer refused):
// the first is logged at once; those within the next interval are only counted, and the count
// is logged with the last one's reason when the interval is over. However fast a peer
// reconnects, the log gets at most one line an interval from it.
import { Level, Logger } from './logger';

export const QUIET_INTERVAL_MS = 60_000;

export class QuietEvent {
  private quietUntil = 0;
  private counted = 0;
  private lastWhy = '';
  private summary: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly level: Level,
    private readonly event: string,
    private readonly intervalMs = QUIET_INTERVAL_MS,
  ) {}

  /** One occurrence, and why: `refused=` on the line counts the occurrences it stands for. */
  happened(why: string): void {
    const now = performance.now();
    if (now >= this.quietUntil) {
      this.quietUntil = now + this.intervalMs;
      this.logger.log(this.level, this.event, { why, refused: 1 });
      return;
    }
    this.counted++;
    this.lastWhy = why;
    if (this.summary !== undefined) return;
    this.summary = setTimeout(() => {
      this.summary = undefined;
      const refused = this.counted;
      this.counted = 0;
      this.quietUntil = performance.now() + this.intervalMs;
      // refused= counts the occurrences since the line before; why= is the last one's.
      this.logger.log(this.level, this.event, { why: this.lastWhy, refused });
    }, this.quietUntil - now);
    this.summary.unref();
  }
}
