// The worker's index of Kopano login names to object ids, so that neither a login nor an
// unknown name costs Kopano's scan of every login name, without changing Kopano's tables.
//
// For a name it holds, it is a hint, never the truth: the store reads the user by id and serves
// the row only when its login name (read in that same query) still matches, so a renamed or
// deleted user is never served stale. For a name it does not hold, it is the answer, once the
// objects created since it was read have been read too (catchUp: a primary-key range from the
// highest object id it has seen, nearly always empty): a new user is found by the first request
// after Kopano created them. A renamed user's new name is learnt by the next full re-read, every
// refreshMs, or as soon as someone asks for the old name (the id's row names the new one).
// While no full read has succeeded for twice refreshMs, the index is not trusted for absent
// names: Kopano's query answers, as with login_index = no, and a name it did not find is then
// remembered as unknown for unknownMs (so a flood of one wrong name does not scan every time).
import { foldLogin } from '../login';
import { CATCH_UP_BATCH, LoginRow, ObjectRow } from './queries';
const MAX_UNKNOWN = 10_000;
/** How long a request waits for the very first full read before asking Kopano's query itself. */
const FIRST_LOAD_WAIT_MS = 1000;
/** Kopano's object type of users: objectclass >> 16. */
const USER_TYPE = 1;

/** ids: the objects that carry the name. absent: no user has it (the index is trusted).
 * unknown: Kopano's query found nobody a moment ago. none: ask Kopano's query. */
export type Hint = { kind: 'ids'; ids: number[] } | { kind: 'absent' } | { kind: 'unknown' } | { kind: 'none' };

/** One id, or the ids of a name several objects carry: a plain number for the usual case
 * keeps 100,000 names from costing 100,000 arrays. */
type Ids = number | number[];

export interface IndexSource {
  /** The highest object id now; then every user's login name. */
  maxObjectId(): Promise<number>;
  allLogins(): Promise<LoginRow[]>;
  /** Objects with an id above `after`, in id order, at most CATCH_UP_BATCH. */
  objectsAfter(after: number, signal: AbortSignal): Promise<ObjectRow[]>;
}

export class LoginIndex {
  private ids = new Map<string, Ids>();
  /** When the last full read succeeded (-Infinity: never). */
  private loadedAt = -Infinity;
  /** The first full read; later ones follow each other on the timer. */
  private first: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Every object up to this id has been read into the index. */
  private seenUpTo = 0;
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly source: IndexSource,
    private readonly refreshMs: number,
    private readonly unknownMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  /** Starts the first full read (once: a failed one is tried again on the timer), and waits a
   * moment for it. */
  async ready(): Promise<void> {
    if (this.closed || this.loadedAt > -Infinity) return;
    this.first ??= this.reload();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.first, new Promise<void>((r) => { timer = setTimeout(r, FIRST_LOAD_WAIT_MS); })]);
    clearTimeout(timer);
  }

  /** Trusted for absent names: a full read succeeded within twice the refresh interval. */
  fresh(now = Date.now()): boolean {
    return now - this.loadedAt <= 2 * this.refreshMs;
  }

  /** What the index says about a login now. */
  hint(login: string, now = Date.now()): Hint {
    const key = foldLogin(login);
    const ids = this.ids.get(key);
    if (ids !== undefined) return { kind: 'ids', ids: typeof ids === 'number' ? [ids] : ids };
    if (this.fresh(now)) return { kind: 'absent' };
    const until = this.unknown.get(key);
    if (until !== undefined) {
      if (until > now) return { kind: 'unknown' };
      this.unknown.delete(key);
    }
    return { kind: 'none' };
  }

  /** Reads the objects created since the index last looked: primary-key ranges, as many rows as
   * there are new objects (none, nearly always), whatever the number of users. */
  async catchUp(signal: AbortSignal): Promise<void> {
    for (;;) {
      const from = this.seenUpTo;
      const rows = await this.source.objectsAfter(from, signal);
      let upTo = from;
      let complete = true;
      for (const r of rows) {
        const id = Number(r.id);
        const isUser = Number(r.objectclass) >> 16 === USER_TYPE;
        if (isUser && r.loginname !== null) this.add(foldLogin(String(r.loginname)), id);
        // A user created half-way (Kopano writes the object, then its properties) is read again
        // next time: nothing past it counts as seen.
        if (isUser && r.loginname === null) complete = false;
        if (complete) upTo = id;
      }
      if (upTo > this.seenUpTo) this.seenUpTo = upTo;
      if (rows.length < CATCH_UP_BATCH || !complete || signal.aborted) return;
    }
  }

  /** Records what Kopano's query answered for a login, and what an id's row says its name is
   * now (a renamed user, found under the old name). */
  learn(login: string, ids: number[], now = Date.now()): void {
    const key = foldLogin(login);
    if (ids.length > 0) {
      this.ids.set(key, ids.length === 1 ? ids[0] : ids);
      this.unknown.delete(key);
      return;
    }
    this.ids.delete(key);
    if (this.fresh(now) || this.unknownMs <= 0) return;
    if (this.unknown.size >= MAX_UNKNOWN) this.unknown.delete(this.unknown.keys().next().value as string);
    this.unknown.set(key, now + this.unknownMs);
  }

  /** An id whose row now carries another name than the index had for it. */
  renamed(id: number, currentName: string): void {
    this.add(foldLogin(currentName), id);
  }

  get size(): number {
    return this.ids.size;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private add(key: string, id: number): void {
    const had = this.ids.get(key);
    if (had === undefined) this.ids.set(key, id);
    else if (typeof had === 'number') { if (had !== id) this.ids.set(key, [had, id]); }
    else if (!had.includes(id)) had.push(id);
  }

  /** One full read, then the next one refreshMs after it ends, whatever the outcome. */
  private async reload(): Promise<void> {
    try {
      const maxId = await this.source.maxObjectId();
      const rows = await this.source.allLogins();
      const next = new Map<string, Ids>();
      const keep = this.ids;
      this.ids = next;
      for (const r of rows) this.add(foldLogin(String(r.loginname)), Number(r.id));
      // Users a catch-up found after this read began are kept; the next catch-up reads from
      // the highest id this read is sure to have seen.
      for (const [key, ids] of keep) {
        for (const id of typeof ids === 'number' ? [ids] : ids) if (id > maxId) this.add(key, id);
      }
      this.seenUpTo = maxId;
      this.loadedAt = Date.now();
      this.unknown.clear();
    } catch (e) {
      this.onError((e as Error).message);
    } finally {
      if (!this.closed) {
        // The only timer: reads never overlap, and a failing database is asked once per interval.
        this.timer = setTimeout(() => void this.reload(), this.refreshMs);
        this.timer.unref();
      }
    }
  }
}
