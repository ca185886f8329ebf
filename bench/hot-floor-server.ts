// A do-nothing server behind the worker's socket: it answers the module's frames with the
// frames a worker would send for a right password (RESULT SUCCESS kept for the account call,
// RESULT SUCCESS), with no policy, no store, no log. What Node itself costs per
// transaction on this socket, the floor bench/worker-cpu-ab.ts compares the worker with.
// Usage: node hot-floor-server.js --config CONFIG (the socket is CONFIG's `socket =` line).
import fs from 'fs';
import net from 'net';
import { Field, HEADER_SIZE, MessageType, Op, Result } from '../src/protocol/constants';
import { FrameBuilder } from '../src/protocol/frame';
import { KEEP_FOR_ACCOUNT_MS } from '../src/worker/kept-connections';

const KEPT = new FrameBuilder(MessageType.RESULT).u32(Field.CODE, Result.SUCCESS).u32(Field.KEEP_MS, KEEP_FOR_ACCOUNT_MS).build();
const LAST = new FrameBuilder(MessageType.RESULT).u32(Field.CODE, Result.SUCCESS).build();

/** The value of a 4-byte field of a payload, or -1. */
function u32Field(payload: Buffer, tag: number): number {
  for (let pos = 0; pos + 3 <= payload.length;) {
    const len = payload.readUInt16BE(pos + 1);
    if (payload[pos] === tag && len === 4) return payload.readUInt32BE(pos + 3);
    pos += 3 + len;
  }
  return -1;
}

function answer(socket: net.Socket, type: number, payload: Buffer): void {
  if (type === MessageType.REQUEST && u32Field(payload, Field.OP) === Op.ACCOUNT) {
    socket.end(LAST);
  } else {
    // An authentication: its password came in the request.
    socket.write(KEPT);
  }
}

const config = process.argv[process.argv.indexOf('--config') + 1];
const socketPath = /^socket\s*=\s*(\S+)/m.exec(fs.readFileSync(config, 'utf8'))?.[1];
if (socketPath === undefined) throw new Error(`${config}: no socket line`);
try { fs.unlinkSync(socketPath); } catch { /* none */ }
net.createServer((socket) => {
  let held: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    while (held.length >= HEADER_SIZE && held.length >= HEADER_SIZE + held.readUInt32BE(4)) {
      const end = HEADER_SIZE + held.readUInt32BE(4);
      answer(socket, held.readUInt16BE(2), held.subarray(HEADER_SIZE, end));
      held = held.subarray(end);
    }
  });
  socket.on('error', () => socket.destroy());
}).listen(socketPath, () => process.stdout.write(`${new Date().toISOString()} notice listening socket=${socketPath}\n`));
process.on('SIGTERM', () => process.exit(0));
