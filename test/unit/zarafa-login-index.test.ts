// The zarafa store's login index with a scripted source (the store against real MariaDB is in
// test/integration/zarafa-unknown-name.test.ts and zarafa-store.test.ts): when it answers
// "absent" itself, how a catch-up reads new objects, and what a full read keeps.
import { IndexSource, LoginIndex } from '../../src/stores/zarafa/login-index';
import { LoginRow, ObjectRow } from '../../src/stores/zarafa/queries';

const USER = 0x10001;
const GROUP = 0x30001;

class Source implements IndexSource {
  objects: Array<{ id: number; objectclass: number; loginname: string | null }> = [];
  failing = false;
  reads = 0;
  afterCalls: number[] = [];

  async maxObjectId(): Promise<number> {
    if (this.failing) throw new Error('database down');
    return Math.max(0, ...this.objects.map((o) => o.id));
  }

  async allLogins(): Promise<LoginRow[]> {
    this.reads++;
    return this.objects.filter((o) => o.objectclass >> 16 === 1 && o.loginname !== null).map((o) => ({ id: o.id, loginname: o.loginname }) as LoginRow);
  }

  async objectsAfter(after: number): Promise<ObjectRow[]> {
    this.afterCalls.push(after);
    return this.objects.filter((o) => o.id > after).sort((a, b) => a.id - b.id).slice(0, 1000).map((o) => ({ ...o }) as ObjectRow);
  }
}

const signal = new AbortController().signal;
let index: LoginIndex;
afterEach(() => index?.close());

test('a loaded index answers absent names itself; a catch-up finds a user created since', async () => {
  const src = new Source();
  src.objects.push({ id: 1, objectclass: USER, loginname: 'alice' });
  index = new LoginIndex(src, 60_000, 10_000, () => undefined);
  expect(index.hint('alice')).toEqual({ kind: 'none' }); // not read yet: Kopano's query answers
  await index.ready();
  expect(index.hint('ALICE')).toEqual({ kind: 'ids', ids: [1] });
  expect(index.hint('bob')).toEqual({ kind: 'absent' });
  src.objects.push({ id: 2, objectclass: GROUP, loginname: null }, { id: 3, objectclass: USER, loginname: 'Bob' });
  await index.catchUp(signal);
  expect(index.hint('bob')).toEqual({ kind: 'ids', ids: [3] });
  await index.catchUp(signal);
  expect(src.afterCalls).toEqual([1, 3]);
});

test('a user seen half-created (no login name yet) is read again by the next catch-up', async () => {
  const src = new Source();
  index = new LoginIndex(src, 60_000, 10_000, () => undefined);
  await index.ready();
  src.objects.push({ id: 5, objectclass: USER, loginname: null }, { id: 6, objectclass: USER, loginname: 'carol' });
  await index.catchUp(signal);
  expect(index.hint('carol')).toEqual({ kind: 'ids', ids: [6] });
  src.objects[0].loginname = 'dave';
  await index.catchUp(signal);
  expect(index.hint('dave')).toEqual({ kind: 'ids', ids: [5] });
  expect(src.afterCalls).toEqual([0, 0]);
});

test('a renamed id is learnt under its new name; Kopano\'s "nobody" drops the old one', async () => {
  const src = new Source();
  src.objects.push({ id: 1, objectclass: USER, loginname: 'erin' });
  index = new LoginIndex(src, 60_000, 10_000, () => undefined);
  await index.ready();
  index.renamed(1, 'erin2');
  index.learn('erin', []);
  expect(index.hint('erin')).toEqual({ kind: 'absent' });
  expect(index.hint('erin2')).toEqual({ kind: 'ids', ids: [1] });
});

test('an index that cannot be read is not trusted: Kopano\'s query answers, and its "unknown" is remembered', async () => {
  const src = new Source();
  src.failing = true;
  const errors: string[] = [];
  index = new LoginIndex(src, 60_000, 10_000, (m) => errors.push(m));
  await index.ready();
  await index.ready();
  expect(errors).toEqual(['database down']); // one read, retried on the timer, not per request
  expect(index.hint('frank')).toEqual({ kind: 'none' });
  index.learn('frank', []);
  expect(index.hint('frank')).toEqual({ kind: 'unknown' });
  expect(index.hint('frank', Date.now() + 10_001)).toEqual({ kind: 'none' });
});

test('a loaded index goes untrusted when no full read succeeded for twice the interval', async () => {
  const src = new Source();
  index = new LoginIndex(src, 1_000, 10_000, () => undefined);
  await index.ready();
  expect(index.hint('gina')).toEqual({ kind: 'absent' });
  expect(index.hint('gina', Date.now() + 2_500)).toEqual({ kind: 'none' });
});

test('the index is read again every interval', async () => {
  const src = new Source();
  index = new LoginIndex(src, 50, 10_000, () => undefined);
  await index.ready();
  src.objects.push({ id: 9, objectclass: USER, loginname: 'hank' });
  await new Promise((r) => setTimeout(r, 200));
  expect(src.reads).toBeGreaterThanOrEqual(2);
  expect(index.hint('hank')).toEqual({ kind: 'ids', ids: [9] });
});
