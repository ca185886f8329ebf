// The worker's log writer (src/log/queued-logger.ts): the lines of one turn of the event loop
// go out together in one write after it, none is lost, and debug lines only with --debug.
import { QueuedLogger } from '../../src/log/queued-logger';

describe('QueuedLogger', () => {
  test('lines of one turn are written once, together, after the turn', async () => {
    const writes: string[] = [];
    const logger = new QueuedLogger(false, (t) => writes.push(t));
    logger.log('info', 'request', { op: 'authenticate', user: 'alice' });
    logger.log('info', 'request', { op: 'account', user: 'alice' });
    logger.log('debug', 'request.start', { user: 'alice' });
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    const lines = writes[0].split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ info request op=authenticate user=alice$/);
    expect(lines[1]).toMatch(/ info request op=account user=alice$/);
    expect(lines[2]).toBe('');
  });

  test('what is queued is written by flush (the exit handler), and debug with debug on', () => {
    const writes: string[] = [];
    const logger = new QueuedLogger(true, (t) => writes.push(t));
    logger.log('debug', 'request.start', { user: 'bob' });
    logger.flush();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/ debug request\.start user=bob\n$/);
    logger.flush();
    expect(writes).toHaveLength(1);
  });

  test('a notice, warning or error is written at once, after the lines queued before it', () => {
    const writes: string[] = [];
    const logger = new QueuedLogger(false, (t) => writes.push(t));
    logger.log('info', 'request', { user: 'carol' });
    logger.log('warning', 'store.host_down', { host: 'ldap://a' });
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/ info request user=carol\n.* warning store\.host_down host=ldap:\/\/a\n$/);
  });

  test('a line written at once schedules no later write (an outage logs every request at error)', () => {
    const writes: string[] = [];
    const logger = new QueuedLogger(false, (t) => writes.push(t));
    const later = jest.spyOn(global, 'setImmediate');
    try {
      for (let i = 0; i < 3; i++) logger.log('error', 'request', { result: 'PAM_AUTHINFO_UNAVAIL' });
      expect(later).not.toHaveBeenCalled();
    } finally {
      later.mockRestore();
    }
    expect(writes).toHaveLength(3);
  });
});
