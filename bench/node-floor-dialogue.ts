// What the Node floor replays: for each kind of frame the module sends, the frames the worker
// answered it with in a recorded transaction and whether the worker then closed. The kind is
// the message type, and for a REQUEST its operation (authenticate, account), read with the
// protocol's own constants, so the floor follows the protocol as it changes.
import { Field, HEADER_SIZE, MessageType } from '../src/protocol/constants';

export type Dialogue = Record<string, { frames: string[]; close: boolean }>;

/** The kind of a whole frame (header and payload). */
export function frameKey(frame: Buffer): string {
  const type = frame.readUInt16BE(2);
  if (type !== MessageType.REQUEST) return String(type);
  for (let i = HEADER_SIZE; i + 3 <= frame.length;) {
    const tag = frame[i];
    const len = frame.readUInt16BE(i + 1);
    if (tag === Field.OP) return `${type}:${frame.subarray(i + 3, i + 3 + len).toString('hex')}`;
    i += 3 + len;
  }
  return String(type);
}
