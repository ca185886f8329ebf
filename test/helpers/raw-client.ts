// Talks to a worker socket directly, below the module, to send what the module never would.
import net from 'net';
import { FrameReader, decodeFields } from '../../src/protocol/frame';
import { Field, MessageType, nameOf, ErrorCode, Result } from '../../src/protocol/constants';

export interface Answer {
  version: number;
  type: string;
  error?: string;
  result?: string;
  text?: string;
}

/** Sends chunks (with optional pauses) and collects the worker's frames until it closes. */
export async function exchange(socketPath: string, chunks: Array<Buffer | number>, timeoutMs = 10000): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    const answers: Answer[] = [];
    const sock = net.connect(socketPath);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(answers)}`)); }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      reader.push(d);
      for (let f = reader.next(); f !== undefined; f = reader.next()) {
        const fields = decodeFields(f.payload);
        const u32 = (tag: number): number | undefined => fields.find((x) => x.tag === tag)?.value.readUInt32BE(0);
        const text = fields.find((x) => x.tag === Field.TEXT)?.value.toString('utf8');
        const code = u32(Field.CODE);
        const err = u32(Field.ERROR_CODE);
        answers.push({
          version: f.version,
          type: String(nameOf(MessageType, f.type) ?? f.type),
          result: code === undefined ? undefined : String(nameOf(Result, code)),
          error: err === undefined ? undefined : String(nameOf(ErrorCode, err)),
          text,
        });
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => { clearTimeout(timer); resolve(answers); });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) break;
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
        else if (!sock.destroyed) sock.write(c);
      }
    });
  });
}
