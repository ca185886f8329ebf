// The worker's memory under a flood of distinct names: REQUEST frames straight to a real worker
// (file store, default [throttle]), each a new name from a new address with a wrong password,
// on several connections at once; the worker's RSS (VmRSS, VmHWM) every step. Run as root:
//   node dist/bench/name-flood.js [COUNT] [CONNECTIONS]
import fs from 'fs';
import net from 'net';
import { Field, MessageType, Op, PasswordFrom } from '../src/protocol/constants';
import { FrameBuilder, FrameReader } from '../src/protocol/frame';
import { Sandbox } from '../src/sandbox/sandbox';

function request(i: number): Buffer {
  return new FrameBuilder(MessageType.REQUEST)
    .u32(Field.OP, Op.AUTHENTICATE).text(Field.SERVICE, 'smtp').text(Field.USER, `flood${i}@example.org`)
    .text(Field.RHOST, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
    .text(Field.ARG, 'use_first_pass').text(Field.ARG, 'nodelay').text(Field.ARG, 'quiet')
    .u32(Field.PASSWORD_FROM, PasswordFrom.EARLIER).text(Field.PASSWORD, 'wrong-password').build();
}

function one(socketPath: string, i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    const reader = new FrameReader();
    sock.on('connect', () => sock.write(request(i)));
    sock.on('data', (d: Buffer) => { reader.push(d); if (reader.next() !== undefined) sock.end(); });
    sock.on('close', () => resolve());
    sock.on('error', reject);
  });
}

function memory(pid: number): string {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return `RSS ${(kb('VmRSS') / 1024).toFixed(1)} MB, peak ${(kb('VmHWM') / 1024).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1_000_000);
  const conns = Number(process.argv[3] ?? 16);
  const box = Sandbox.create('pam_mapi-flood-');
  try {
    box.writeUsers([{ login: 'alice', password: 'wonderland-7' }]);
    // A [throttle] section of its own (the defaults), so the sandbox trusts no address.
    const w = await box.startWorker(box.writeConfig(`[throttle]\n\n[store]\ntype = file\npath = ${box.dir}/users\n`));
    const pid = w.child.pid!;
    console.log(`start: ${memory(pid)}`);
    let next = 0;
    const t0 = Date.now();
    const step = Math.max(1, Math.floor(count / 10));
    const lane = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        await one(w.socketPath, i);
        if ((i + 1) % step === 0) console.log(`${i + 1} names: ${memory(pid)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    };
    await Promise.all(Array.from({ length: conns }, lane));
    console.log(`done: ${count} names in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${memory(pid)}`);
  } finally {
    await box.cleanup();
  }
}

void main();
