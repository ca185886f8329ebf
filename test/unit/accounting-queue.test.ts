// The accounting log's writes (src/worker/accounting.ts): the lines of one turn of the event
// loop in one write after it, none lost at a reopen (logrotate's SIGHUP).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { AccountingLog, Decision } from '../../src/worker/accounting';

const decision = (user: string): Decision => ({
  op: 'authenticate', service: 'smtp', user: Buffer.from(user), rhost: '192.0.2.1', store: 'default', result: 'SUCCESS', reason: 'accepted', ms: 0.2,
});

test('lines of one turn are written in one write, after the turn; a reopen writes what is queued first', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accounting-queue-'));
  const file = path.join(dir, 'accounting.log');
  const log = new AccountingLog(file, { log: () => {} });
  const writes = jest.spyOn(fs, 'writeSync');
  try {
    log.write(decision('ann'));
    log.write(decision('ben'));
    log.write(decision('cat'));
    expect(writes).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveBeenCalledTimes(1);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).user)).toEqual(['ann', 'ben', 'cat']);
    log.write(decision('dan'));
    fs.renameSync(file, `${file}.1`);
    log.reopen(file);
    expect(fs.readFileSync(`${file}.1`, 'utf8').trim().split('\n').map((l) => JSON.parse(l).user)).toEqual(['ann', 'ben', 'cat', 'dan']);
    log.write(decision('eve'));
    log.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).user)).toEqual(['eve']);
  } finally {
    writes.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
