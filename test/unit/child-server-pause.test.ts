// The sandbox's pause(): a server the tests pause must not answer one more request. SIGSTOP
// stops a process's threads one after another, so pause() waits until all of them are stopped.
// The child here keeps four threads busy, as a server under load does, which is when the
// others ran on and a paused MariaDB once answered a login (CI, stop 22).
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { allThreadsStopped, ChildServer } from '../../src/sandbox/child-server';

class BusyChild extends ChildServer {
  constructor(dir: string) {
    super(dir, 2000);
    const threads = "const { Worker } = require('worker_threads'); for (let i = 0; i < 3; i++) new Worker('for (;;) {}', { eval: true }); for (;;) {}";
    // Niced: the other suites running meanwhile keep their share of the 2 cores. nice execs
    // node, so the pid is node's; with the old pause() threads still ran in 20 of 20 rounds.
    this.child = spawn('nice', ['-n', '19', process.execPath, '-e', threads], { stdio: 'ignore' });
  }
  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('the child did not start');
    return this.child.pid;
  }
}

test('after pause() every thread is stopped; after resume() they run again', async () => {
  const server = new BusyChild(fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-pause-')));
  try {
    await new Promise((r) => setTimeout(r, 300)); // its threads started
    const stoppedAtOnce: boolean[] = [];
    for (let round = 0; round < 20; round++) {
      await server.pause();
      stoppedAtOnce.push(allThreadsStopped(server.pid));
      server.resume();
      await new Promise((r) => setTimeout(r, 10));
      expect(allThreadsStopped(server.pid)).toBe(false);
    }
    expect(stoppedAtOnce).toEqual(stoppedAtOnce.map(() => true));
  } finally {
    await server.destroy();
  }
});

test('a process that is gone counts as not stopped', () => {
  expect(allThreadsStopped(2 ** 22 + 1)).toBe(false);
});
