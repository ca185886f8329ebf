// The connection caps: per uid and overall, given back on close, lowered under the file limit,
// and one log line however many are turned away.
import { Fields, Level, Logger } from '../../src/log/logger';
import { parseConfig } from '../../src/stores/registry';
import { ConnectionLimits, effectiveCaps, openFileLimit, RESERVED_FILES } from '../../src/worker/connection-limits';
import { FrameReader } from '../../src/protocol/frame';
import { FrameBuilder } from '../../src/protocol/frame';

class Lines implements Logger {
  readonly lines: Array<{ level: Level; event: string; fields?: Fields }> = [];
  log(level: Level, event: string, fields?: Fields): void {
    this.lines.push({ level, event, fields });
  }
}

test('per uid first, then overall; places come back when released', () => {
  const log = new Lines();
  const limits = new ConnectionLimits(() => ({ maxConnections: 3, maxPerUid: 2 }), log);
  const a = limits.take(0);
  const b = limits.take(0);
  const c = limits.take(0);
  expect([a.ok, b.ok, c.ok]).toEqual([true, true, false]);
  if (!c.ok) expect(c.why).toBe('uid 0 has 2 connections open (max_connections_per_uid = 2)');
  const d = limits.take(1000);
  const e = limits.take(1001);
  expect([d.ok, e.ok]).toEqual([true, false]);
  if (!e.ok) expect(e.why).toBe('3 connections are open (max_connections = 3)');
  if (a.ok) { a.release(); a.release(); } // twice counts once
  expect(limits.take(1001).ok).toBe(true);
  expect(limits.take(0).ok).toBe(false);
});

test('a connection is kept for its account request only while its uid holds at most half its places', () => {
  const limits = new ConnectionLimits(() => ({ maxConnections: 100, maxPerUid: 4 }), new Lines());
  limits.take(0);
  limits.take(0);
  expect(limits.roomToKeep(0)).toBe(true);
  limits.take(0);
  expect(limits.roomToKeep(0)).toBe(false);
  limits.take(5);
  expect(limits.roomToKeep(5)).toBe(true);
  const few = new ConnectionLimits(() => ({ maxConnections: 4, maxPerUid: 4 }), new Lines());
  for (const uid of [1, 2, 3]) few.take(uid);
  expect(few.roomToKeep(3)).toBe(false);
});

test('a thousand turned away make one log line', () => {
  const log = new Lines();
  const limits = new ConnectionLimits(() => ({ maxConnections: 1, maxPerUid: 1 }), log);
  expect(limits.take(0).ok).toBe(true);
  for (let i = 0; i < 1000; i++) expect(limits.take(i % 7).ok).toBe(false);
  expect(log.lines).toEqual([{ level: 'warning', event: 'connections.limited', fields: { why: 'uid 0 has 1 connections open (max_connections_per_uid = 1)', refused: 1 } }]);
});

test('the caps leave room for the worker under the file limit', () => {
  expect(openFileLimit('Limit                     Soft Limit           Hard Limit           Units\nMax open files            128                  128                  files\n')).toBe(128);
  expect(openFileLimit('Max open files            unlimited            unlimited            files\n')).toBeUndefined();
  expect(effectiveCaps({ maxConnections: 256, maxPerUid: 64 }, 128)).toEqual({ maxConnections: 128 - RESERVED_FILES, maxPerUid: 64, lowered: true });
  expect(effectiveCaps({ maxConnections: 256, maxPerUid: 64 }, 100)).toEqual({ maxConnections: 36, maxPerUid: 36, lowered: true });
  expect(effectiveCaps({ maxConnections: 256, maxPerUid: 64 }, 1_048_576)).toEqual({ maxConnections: 256, maxPerUid: 64, lowered: false });
  expect(effectiveCaps({ maxConnections: 256, maxPerUid: 64 }, undefined).lowered).toBe(false);
});

test('the [worker] keys: defaults, values, and bad values named', () => {
  const w = (text: string) => parseConfig(`[worker]\n${text}\n`, '/etc/pam_mapi.conf').worker;
  expect(w('')).toMatchObject({ maxConnections: 256, maxConnectionsPerUid: 64 });
  expect(w('max_connections = 10\nmax_connections_per_uid = 3')).toMatchObject({ maxConnections: 10, maxConnectionsPerUid: 3 });
  expect(() => w('max_connections = 0')).toThrow('[worker] max_connections: 0 is outside 1..65536');
  expect(() => w('max_connections_per_uid = many')).toThrow('[worker] max_connections_per_uid: "many" is not a whole number');
});

test('a frame sent in one-byte pieces is read whole, and the bytes after it are kept', () => {
  const frame = new FrameBuilder(1).bytes(7, Buffer.alloc(5000, 0x61)).build();
  const reader = new FrameReader();
  let got;
  for (const byte of Buffer.concat([frame, frame.subarray(0, 3)])) {
    reader.push(Buffer.from([byte]));
    got = got ?? reader.next();
  }
  expect(got?.payload.length).toBe(frame.length - 8);
  reader.push(frame.subarray(3));
  expect(reader.next()?.payload.equals(got?.payload ?? Buffer.alloc(0))).toBe(true);
  expect(reader.next()).toBeUndefined();
});
