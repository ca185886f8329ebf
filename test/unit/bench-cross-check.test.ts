// The benchmark's new parts that run without root or servers: the Node floor's frame kinds and
// its replay server, the harness's output line, and the issue-15 targets computed from a run's
// figures (the Node floor's CPU, pam_sss, the cross-check's agreement).
import { spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { Field, MessageType, Op, Result } from '../../src/protocol/constants';
import { FrameBuilder } from '../../src/protocol/frame';
import { Dialogue, frameKey } from '../../bench/node-floor-dialogue';
import { parseHarnessLine } from '../../bench/harness';
import { CrossPoint } from '../../bench/cross-check';
import { parseOptions } from '../../bench/options';
import { Point, Results } from '../../bench/results';
import { checkTargets } from '../../bench/targets';
import { ModuleName } from '../../bench/options';

const request = (op: number): Buffer => new FrameBuilder(MessageType.REQUEST).u32(Field.OP, op).text(Field.USER, 'user0').build();

describe('the Node floor', () => {
  it('tells an authentication request from an account request and from other frames', () => {
    const auth = frameKey(request(Op.AUTHENTICATE));
    const account = frameKey(request(Op.ACCOUNT));
    expect(auth).not.toBe(account);
    expect(frameKey(new FrameBuilder(MessageType.RESULT).u32(Field.CODE, Result.SUCCESS).build())).toBe(String(MessageType.RESULT));
  });

  it('answers each frame with the recorded frames and closes where the worker closed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-floor-test-'));
    const result = new FrameBuilder(MessageType.RESULT).u32(Field.CODE, Result.SUCCESS).build();
    const dialogue: Dialogue = { [frameKey(request(Op.AUTHENTICATE))]: { frames: [result.toString('base64')], close: true } };
    fs.writeFileSync(path.join(dir, 'dialogue.json'), JSON.stringify(dialogue));
    const sock = path.join(dir, 'floor.sock');
    const child = spawn(process.execPath, [path.join(__dirname, '../../bench/node-floor-server.js'), sock, path.join(dir, 'dialogue.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      const talk = (frame: Buffer): Promise<Buffer> => new Promise((resolve, reject) => {
        const c = net.connect(sock, () => c.write(frame));
        const got: Buffer[] = [];
        c.on('data', (d: Buffer) => got.push(d));
        c.on('close', () => resolve(Buffer.concat(got)));
        c.on('error', reject);
      });
      // The recorded answer, then the end of the connection (the 'close' above).
      expect((await talk(request(Op.AUTHENTICATE))).equals(result)).toBe(true);
      // A frame the recording never saw gets nothing that could pass for a yes.
      expect((await talk(request(Op.ACCOUNT))).length).toBe(0);
    } finally {
      child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the outside-style harness', () => {
  it('its line is read field by field, and a line without a figure is an error', () => {
    expect(parseHarnessLine('workers=16 transactions=1000 ok=1000 failed=0 seconds=2.000 auths_per_s=500.0 p50_us=30 p99_us=90'))
      .toEqual({ transactions: 1000, failed: 0, authsPerS: 500, p50: 30, p99: 90 });
    expect(() => parseHarnessLine('workers=16 transactions=1000 failed=0')).toThrow(/auths_per_s/);
  });
});

describe('the issue-15 targets', () => {
  const point = (module: ModuleName, clients: number, authsPerS: number, p50: number, cpu: Array<[string, number]>): Point => ({
    users: 1000, module, clients, workerCpu: null, serverCpu: null, machineCpu: 50, othersCpu: 0, db: null,
    load: { clients, transactions: authsPerS * 3, ok: authsPerS * 3, failed: 0, wrongAnswers: 0, seconds: 3, authsPerS, p50, p90: p50, p99: p50, max: p50 },
    cpuPerTx: cpu.map(([process, us]) => ({ process, us })),
  });
  const cross = (module: ModuleName, tool: CrossPoint['tool'], authsPerS: number): CrossPoint[] => [1, 2, 3].map((round) => ({
    module, users: 1000, clients: 16, round, tool, authsPerS, p50: 100, p99: 200, transactions: 1000, wrongAnswers: 0, cpuPerTx: [],
  }));
  const results = (crossCheck: CrossPoint[]): Results => ({
    options: { ...parseOptions([]), users: [1000], clients: [1, 16] }, facts: [], levels: [{ users: 1000, fill: { mysql: 0, ldap: 0, file: 0 }, pk: null, workers: [] }],
    points: [
      point('pam_permit', 1, 8000, 100, []), point('node_floor', 16, 9000, 1000, [['node floor', 50]]),
      point('mapi_file', 1, 2000, 290, [['worker', 60]]), point('mapi_file', 16, 8000, 2000, [['worker', 60]]),
      point('mapi_zarafa', 16, 5000, 3000, [['worker', 100]]), point('mapi_ldap', 16, 3000, 5000, [['worker', 150]]),
      point('pam_ldap', 16, 900, 9000, []), point('pam_sss', 16, 250, 60000, []),
    ],
    scaling: [], soak: [], syslog: null, wallSeconds: 1, crossCheck,
  });
  const find = (r: Results, text: string) => checkTargets(r).find((t) => t.target.includes(text));

  it('the worker CPU per transaction against the Node floor, ldap against pam_sss, file p50 against pam_permit', () => {
    const r = results([]);
    expect(find(r, 'file: worker CPU')).toMatchObject({ measured: '60 µs / 50 µs = 1.20×', met: true });
    expect(find(r, 'zarafa: worker CPU')).toMatchObject({ measured: '100 µs / 50 µs = 2.00×', met: false });
    expect(find(r, 'ldap: worker CPU')).toMatchObject({ measured: '150 µs / 50 µs = 3.00×', met: false });
    expect(find(r, 'pam_sss')).toMatchObject({ measured: '3,000 / 250 auths/s = 12.00×', met: true });
    expect(find(r, 'pam_ldap+nslcd')).toMatchObject({ met: true });
    expect(find(r, '1-client p50 ≤ 3× pam_permit')).toMatchObject({ measured: '290 µs / 100 µs = 2.90×', met: true });
  });

  it('the cross-check agrees within 20% or says how many rows do not', () => {
    const agree = results([...cross('mapi_file', 'pam_load', 7000), ...cross('mapi_file', 'pam-threads', 8000)]);
    expect(find(agree, 'outside-style harness')).toMatchObject({ measured: '1 of 1 rows agree (see the cross-check table)', met: true });
    const apart = results([...cross('mapi_file', 'pam_load', 4000), ...cross('mapi_file', 'pam-threads', 8000)]);
    expect(find(apart, 'outside-style harness')).toMatchObject({ measured: '0 of 1 rows agree (see the cross-check table)', met: false });
    expect(find(results([]), 'outside-style harness')).toMatchObject({ met: null });
    // Apart, but pam_load agrees when it too sends right passwords only: the tools measure alike.
    const wrongPasswords = results([...cross('mapi_file', 'pam_load', 4000), ...cross('mapi_file', 'pam_load, right passwords only', 7500), ...cross('mapi_file', 'pam-threads', 8000)]);
    expect(find(wrongPasswords, 'outside-style harness')).toMatchObject({
      measured: '0 of 1 rows agree; 1 more agree when pam_load too sends right passwords only (its every 10th wrong password is the difference) (see the cross-check table)', met: true,
    });
    const stillApart = results([...cross('mapi_file', 'pam_load', 4000), ...cross('mapi_file', 'pam_load, right passwords only', 5000), ...cross('mapi_file', 'pam-threads', 8000)]);
    expect(find(stillApart, 'outside-style harness')).toMatchObject({ measured: '0 of 1 rows agree (see the cross-check table)', met: false });
  });
});
