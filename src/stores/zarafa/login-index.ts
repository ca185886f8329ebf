// The worker's index of Kopano login names to object ids, so a login costs primary-key lookups
// instead of Kopano's scan of every loginname, without changing Kopano's tables.
//
// It is a hint, never the truth: the store reads the user by id and serves the row only when its
// login name (read in that same query) still matches, so a renamed or deleted user is never
// served stale; a miss, a mismatch or an ambiguous hint goes to Kopano's own query, whose answer
// updates the hint. The whole index is re-read in the background when it is older than
// REFRESH_MS. The only deliberate delay: a name the database did not know is answered "unknown"
// for unknownMs without asking again (0 turns that off), which keeps a flood of one wrong name
// cheap but means a user created in that window waits that long.
import { foldLogin } from '../login';
import { LoginRow } from './queries';

export const REFRESH_MS = 60_000;
const MAX_UNKNOWN = 10_000;

export type Hint = { kind: 'ids'; ids: number[] } | { kind: 'unknown' } | { kind: 'none' };

/** One id, or the ids of a name several objects carry: a plain number for the usual case
 * keeps 100,000 names from costing 100,000 arrays. */
type Ids = number | number[];

export class LoginIndex {
  private ids = new Map<string, Ids>();
  private loadedAt = -Infinity;
  private loading = false;
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly load: () => Promise<LoginRow[]>,
    private readonly unknownMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  /** What the index says about a login now; starts a background reload when it is stale. */
  hint(login: string, now = Date.now()): Hint {
    if (now - this.loadedAt > REFRESH_MS) this.reload(now);
    const key = foldLogin(login);
    const until = this.unknown.get(key);
    if (until !== undefined) {
      if (until > now) return { kind: 'unknown' };
      this.unknown.delete(key);
    }
    const ids = this.ids.get(key);
    return ids === undefined ? { kind: 'none' } : { kind: 'ids', ids: typeof ids === 'number' ? [ids] : ids };
  }

  /** Records what the database answered for a login. */
  learn(login: string, ids: number[], now = Date.now()): void {
    const key = foldLogin(login);
    if (ids.length > 0) {
      this.ids.set(key, ids.length === 1 ? ids[0] : ids);
      this.unknown.delete(key);
      return;
    }
    this.ids.delete(key);
    if (this.unknownMs <= 0) return;
    if (this.unknown.size >= MAX_UNKNOWN) this.unknown.delete(this.unknown.keys().next().value as string);
    this.unknown.set(key, now + this.unknownMs);
  }

  get size(): number {
    return this.ids.size;
  }

  private reload(now: number): void {
    if (this.loading) return;
    this.loading = true;
    // Marked as loaded at the start, so a failing database is not asked on every request.
    this.loadedAt = now;
    this.load().then((rows) => {
      const next = new Map<string, Ids>();
      for (const r of rows) {
        const key = foldLogin(String(r.loginname));
        const id = Number(r.id);
        const had = next.get(key);
        if (had === undefined) next.set(key, id);
        else if (typeof had === 'number') next.set(key, [had, id]);
        else had.push(id);
      }
      this.ids = next;
    }, (e: unknown) => this.onError((e as Error).message)).finally(() => {
      this.loading = false;
    });
  }
}
