// Frames: an 8-byte header (version u16, type u16, payload length u32, big-endian) and a payload
// of fields (tag u8, length u16, value). See docs/protocol.md.
import { HEADER_SIZE, MAX_PAYLOAD, PROTOCOL_VERSION } from './constants';

export interface FieldValue {
  tag: number;
  value: Buffer;
}

export interface Frame {
  version: number;
  type: number;
  fields: FieldValue[];
}

export class FrameError extends Error {
  constructor(
    message: string,
    readonly kind: 'too_large' | 'malformed',
    /** The version in the offending frame's header, when it had one. */
    readonly version?: number,
  ) {
    super(message);
  }
}

export class FrameBuilder {
  private readonly parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly type: number) {}

  bytes(tag: number, value: Buffer): this {
    if (value.length > 0xffff) throw new FrameError(`field ${tag} is longer than 65535 bytes`, 'too_large');
    const head = Buffer.alloc(3);
    head.writeUInt8(tag, 0);
    head.writeUInt16BE(value.length, 1);
    this.parts.push(head, value);
    this.size += 3 + value.length;
    return this;
  }

  text(tag: number, value: string): this {
    return this.bytes(tag, Buffer.from(value, 'utf8'));
  }

  u32(tag: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0, 0);
    return this.bytes(tag, b);
  }

  /** The whole frame. The caller wipes it after writing when it holds a secret. */
  build(version: number = PROTOCOL_VERSION): Buffer {
    if (this.size > MAX_PAYLOAD) throw new FrameError(`frame payload of ${this.size} bytes exceeds ${MAX_PAYLOAD}`, 'too_large');
    const head = Buffer.alloc(HEADER_SIZE);
    head.writeUInt16BE(version, 0);
    head.writeUInt16BE(this.type, 2);
    head.writeUInt32BE(this.size, 4);
    return Buffer.concat([head, ...this.parts], HEADER_SIZE + this.size);
  }
}

export function decodeFields(payload: Buffer): FieldValue[] {
  const fields: FieldValue[] = [];
  let pos = 0;
  while (pos < payload.length) {
    if (payload.length - pos < 3) throw new FrameError('truncated field header', 'malformed');
    const tag = payload.readUInt8(pos);
    const len = payload.readUInt16BE(pos + 1);
    pos += 3;
    if (len > payload.length - pos) throw new FrameError(`field ${tag} runs past the end of the frame`, 'malformed');
    fields.push({ tag, value: payload.subarray(pos, pos + len) });
    pos += len;
  }
  return fields;
}

/** Reads one frame at a time from a byte stream, refusing over-long frames before buffering them. */
export class FrameReader {
  private buffered: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): void {
    this.buffered.push(chunk);
    this.length += chunk.length;
  }

  /** The next whole frame, or undefined when more bytes are needed. */
  next(): { version: number; type: number; payload: Buffer } | undefined {
    if (this.length < HEADER_SIZE) return undefined;
    // The header alone is joined first: joining everything on every chunk would cost a peer
    // that sends a frame in many small pieces the square of its size in copying.
    const head = this.buffered[0].length >= HEADER_SIZE ? this.buffered[0] : this.flatten();
    const version = head.readUInt16BE(0);
    const type = head.readUInt16BE(2);
    const size = head.readUInt32BE(4);
    // The error carries the header's version: another version is reported as such, whatever
    // its size, since the header layout never changes.
    if (size > MAX_PAYLOAD) throw new FrameError(`frame of ${size} bytes exceeds the limit of ${MAX_PAYLOAD}`, 'too_large', version);
    if (this.length < HEADER_SIZE + size) return undefined;
    const all = this.flatten();
    const payload = Buffer.from(all.subarray(HEADER_SIZE, HEADER_SIZE + size));
    // What was read may hold a password. The rest stays where it is (a view, not a copy: a
    // chunk of many frames is not copied once per frame); wipe() clears it.
    all.fill(0, 0, HEADER_SIZE + size);
    const rest = all.subarray(HEADER_SIZE + size);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return { version, type, payload };
  }

  wipe(): void {
    for (const b of this.buffered) b.fill(0);
    this.buffered = [];
    this.length = 0;
  }

  private flatten(): Buffer {
    if (this.buffered.length !== 1) {
      const joined = Buffer.concat(this.buffered, this.length);
      for (const b of this.buffered) b.fill(0);
      this.buffered = [joined];
    }
    return this.buffered[0];
  }
}

