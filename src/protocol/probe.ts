// Asks the worker one account question for a user that should not exist, the way the module
// would: proof that the worker answers on its socket and reaches its store.
import crypto from 'crypto';
import net from 'net';
import { ErrorCode, Field, MessageType, nameOf, Op, Result } from './constants';
import { decodeFields, FrameBuilder, FrameReader } from './frame';

export const PROBE_USER = 'pam-mapi-doctor-probe';

/** A name no cache has seen, so every probe reaches the store (the zarafa store remembers unknown
 * names for a while). */
function freshProbeUser(): string {
  return `${PROBE_USER}-${crypto.randomBytes(4).toString('hex')}`;
}

export type ProbeAnswer =
  | { kind: 'result'; result: string; ms: number }
  | { kind: 'error'; code: string; text: string }
  | { kind: 'unreachable'; message: string };

export function probeWorker(socketPath: string, timeoutMs: number, args: string[] = []): Promise<ProbeAnswer> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const reader = new FrameReader();
    const sock = net.connect(socketPath);
    const done = (a: ProbeAnswer): void => { clearTimeout(timer); sock.destroy(); resolve(a); };
    const timer = setTimeout(() => done({ kind: 'unreachable', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
    sock.on('error', (e) => done({ kind: 'unreachable', message: e.message }));
    sock.on('connect', () => {
      const b = new FrameBuilder(MessageType.REQUEST).u32(Field.OP, Op.ACCOUNT).text(Field.SERVICE, 'pam-mapi-doctor').text(Field.USER, freshProbeUser());
      for (const a of args) b.text(Field.ARG, a);
      sock.write(b.build());
    });
    sock.on('data', (d: Buffer) => {
      reader.push(d);
      const f = reader.next();
      if (f === undefined) return;
      const fields = decodeFields(f.payload);
      const u32 = (tag: number): number | undefined => fields.find((x) => x.tag === tag)?.value.readUInt32BE(0);
      const text = fields.find((x) => x.tag === Field.TEXT)?.value.toString('utf8') ?? '';
      if (f.type === MessageType.RESULT) {
        const logs = fields.filter((x) => x.tag === Field.LOG).map((x) => x.value.subarray(1).toString('utf8'));
        const result = String(nameOf(Result, u32(Field.CODE) ?? -1) ?? 'unknown');
        done({ kind: 'result', result: logs.length > 0 && result === 'AUTHINFO_UNAVAIL' ? `${result}: ${logs.join('; ')}` : result, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      } else {
        done({ kind: 'error', code: String(nameOf(ErrorCode, u32(Field.ERROR_CODE) ?? -1) ?? 'unknown'), text });
      }
    });
  });
}
