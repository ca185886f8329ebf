// Frames: an 8-byte header (version u16, type u16, payload length u32, big-endian) and a payload
// of fields (tag u8, length u16, value). See docs/protocol.md.
import { HEADER_SIZE, MAX_PAYLOAD, PROTOCOL_VERSION } from './constants';

export interface FieldValue {
  tag: number;
  value: Buffer;
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
  private readonly tags: number[] = [];
  /** A field's bytes, or the number of a u32 field. */
  private readonly values: Array<Buffer | number> = [];
  private size = 0;

  constructor(private readonly type: number) {}

  bytes(tag: number, value: Buffer): this {
    if (value.length > 0xffff) throw new FrameError(`field ${tag} is longer than 65535 bytes`, 'too_large');
    this.tags.push(tag);
    this.values.push(value);
    this.size += 3 + value.length;
    return this;
  }

  text(tag: number, value: string): this {
    return this.bytes(tag, Buffer.from(value, 'utf8'));
  }

  u32(tag: number, value: number): this {
    this.tags.push(tag);
    this.values.push(value >>> 0);
    this.size += 3 + 4;
    return this;
  }

  /** The whole frame, written into one buffer. The caller wipes it after writing when it holds
   * a secret. */
  build(version: number = PROTOCOL_VERSION): Buffer {
    if (this.size > MAX_PAYLOAD) throw new FrameError(`frame payload of ${this.size} bytes exceeds ${MAX_PAYLOAD}`, 'too_large');
    // Every byte is written below, so the buffer need not be zeroed first.
    const out = Buffer.allocUnsafe(HEADER_SIZE + this.size);
    out.writeUInt16BE(version, 0);
    out.writeUInt16BE(this.type, 2);
    out.writeUInt32BE(this.size, 4);
    let pos = HEADER_SIZE;
    for (let i = 0; i < this.tags.length; i++) {
      const v = this.values[i];
      out[pos] = this.tags[i];
      if (typeof v === 'number') {
        out.writeUInt16BE(4, pos + 1);
        out.writeUInt32BE(v, pos + 3);
        pos += 7;
      } else {
        out.writeUInt16BE(v.length, pos + 1);
        v.copy(out, pos + 3);
        pos += 3 + v.length;
      }
    }
    return out;
  }
}

/** Calls visit with each field's tag and where its value lies in payload, in order; a field
 * header or value that runs past the payload's end is malformed. The one reading of the field
 * layout: decodeFields and the worker's REQUEST reading (messages.ts) both walk with it. */
export function forEachField(payload: Buffer, visit: (tag: number, start: number, end: number) => void): void {
  let pos = 0;
  while (pos < payload.length) {
    if (payload.length - pos < 3) throw new FrameError('truncated field header', 'malformed');
    const tag = payload[pos];
    const len = payload.readUInt16BE(pos + 1);
    pos += 3;
    if (len > payload.length - pos) throw new FrameError(`field ${tag} runs past the end of the frame`, 'malformed');
    visit(tag, pos, pos + len);
    pos += len;
  }
}

export function decodeFields(payload: Buffer): FieldValue[] {
  const fields: FieldValue[] = [];
  forEachField(payload, (tag, start, end) => fields.push({ tag, value: payload.subarray(start, end) }));
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

