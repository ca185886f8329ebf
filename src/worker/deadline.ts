// Bounds a store call: after ms the caller gets an error, so a slow database never holds a mail
// server's login, and the call's signal is aborted (shortly after: deadline-wheel.ts) so the
// store stops working on it.
import { StoreUnavailableError } from '../stores/store';
import { deadlines } from './deadline-wheel';

export function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const at = performance.now() + ms;
  return new Promise<T>((resolve, reject) => {
    const entry = deadlines.add(at, () => reject(new StoreUnavailableError(`no answer within ${ms} ms`)));
    let answer: Promise<T>;
    try {
      answer = call(deadlines.signalBy(at));
    } catch (e) {
      deadlines.cancel(entry);
      reject(e);
      return;
    }
    answer.then(
      (v) => { deadlines.cancel(entry); resolve(v); },
      (e: unknown) => { deadlines.cancel(entry); reject(e); },
    );
  });
}
