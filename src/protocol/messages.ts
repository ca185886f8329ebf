// The protocol's messages as typed values: decoding what the module sends, building what the
// worker answers. Field meanings are in docs/protocol.md.
import {
  ConvStatus, ErrorCode, ErrorName, Field, LIMITS, LogLevel, LogLevelName, MAX_ARGS, MessageType, Op,
  Result, ResultName, Style, StyleName,
} from './constants';
import { decodeFields, FieldValue, FrameBuilder, FrameError } from './frame';

export type Operation = 'authenticate' | 'account';

/** What the module sends first. Strings the worker only logs are decoded leniently; the user
 * name stays raw bytes, because whether it is valid UTF-8 is for the policy to judge. */
export interface PamRequest {
  op: Operation;
  service: string;
  user: Buffer | null;
  rhost: string;
  ruser: string;
  tty: string;
  logname: string;
  uid: number | null;
  euid: number | null;
  args: string[];
  /** The module sends one argument more than MAX_ARGS when the line has more. */
  argsTruncated: boolean;
  /** PAM_AUTHTOK as the module found it, sent with an authentication request; null when the
   * module did not send it (then the worker asks with GET_AUTHTOK). The secret must be wiped. */
  authtok: SecretAnswer | null;
}

export interface SecretAnswer {
  /** False when there was no PAM_AUTHTOK, or the conversation failed. */
  ok: boolean;
  secret: Buffer | null;
}

export interface LogEntry {
  level: LogLevelName;
  text: string;
}

function single(fields: FieldValue[], tag: number): Buffer | null {
  const found = fields.filter((f) => f.tag === tag);
  if (found.length > 1) throw new FrameError(`field ${tag} appears more than once`, 'malformed');
  return found.length === 1 ? found[0].value : null;
}

function u32(fields: FieldValue[], tag: number): number | null {
  const v = single(fields, tag);
  if (v === null) return null;
  if (v.length !== 4) throw new FrameError(`field ${tag} must be 4 bytes`, 'malformed');
  return v.readUInt32BE(0);
}

function lenientText(fields: FieldValue[], tag: number): string {
  const v = single(fields, tag);
  return v === null ? '' : v.toString('utf8');
}

export function decodeRequest(type: number, payload: Buffer): PamRequest {
  if (type !== MessageType.REQUEST) throw new FrameError(`expected a request, got message type ${type}`, 'malformed');
  const fields = decodeFields(payload);
  const opCode = u32(fields, Field.OP);
  const op: Operation | null = opCode === Op.AUTHENTICATE ? 'authenticate' : opCode === Op.ACCOUNT ? 'account' : null;
  if (op === null) throw new FrameError(`unknown operation ${String(opCode)}`, 'malformed');
  const present = u32(fields, Field.PRESENT);
  const args = fields.filter((f) => f.tag === Field.ARG).map((f) => f.value.toString('utf8'));
  if (args.length > MAX_ARGS + 1) throw new FrameError(`more than ${MAX_ARGS + 1} module arguments`, 'malformed');
  return {
    op,
    service: lenientText(fields, Field.SERVICE),
    user: single(fields, Field.USER),
    rhost: lenientText(fields, Field.RHOST),
    ruser: lenientText(fields, Field.RUSER),
    tty: lenientText(fields, Field.TTY),
    logname: lenientText(fields, Field.LOGNAME),
    uid: u32(fields, Field.UID),
    euid: u32(fields, Field.EUID),
    args: args.slice(0, MAX_ARGS),
    argsTruncated: args.length > MAX_ARGS,
    authtok: op === 'authenticate' && present !== null ? secretFrom(fields, present === 1) : null,
  };
}

/** Decodes AUTHTOK or CONV_ANSWER. The secret is a copy the caller must wipe. */
export function decodeSecretAnswer(type: number, payload: Buffer): SecretAnswer {
  const fields = decodeFields(payload);
  if (type === MessageType.AUTHTOK) return secretFrom(fields, u32(fields, Field.PRESENT) === 1);
  if (type === MessageType.CONV_ANSWER) return secretFrom(fields, u32(fields, Field.STATUS) === ConvStatus.OK);
  throw new FrameError(`expected an answer, got message type ${type}`, 'malformed');
}

/** The SECRET field as a copy the caller must wipe (when ok), the frame's bytes wiped. */
function secretFrom(fields: FieldValue[], ok: boolean): SecretAnswer {
  const secret = single(fields, Field.SECRET);
  const copy = ok && secret !== null ? Buffer.from(secret) : null;
  if (secret !== null) secret.fill(0);
  return { ok, secret: copy };
}

export function getAuthtokFrame(): Buffer {
  return new FrameBuilder(MessageType.GET_AUTHTOK).build();
}

export function converseFrame(style: StyleName, text: string, setAuthtok: boolean): Buffer {
  return new FrameBuilder(MessageType.CONVERSE)
    .u32(Field.STYLE, Style[style])
    .text(Field.TEXT, clip(text))
    .u32(Field.SET_AUTHTOK, setAuthtok ? 1 : 0)
    .build();
}

/** keepMs > 0: the connection stays open that long for the ACCOUNT request of the same PAM
 * transaction (docs/protocol.md, "Kept connection"). */
export function resultFrame(result: ResultName, delayUsec: number, logs: readonly LogEntry[], keepMs = 0): Buffer {
  const b = new FrameBuilder(MessageType.RESULT).u32(Field.CODE, Result[result]);
  if (delayUsec > 0) b.u32(Field.DELAY_USEC, delayUsec);
  if (keepMs > 0) b.u32(Field.KEEP_MS, keepMs);
  for (const entry of logs.slice(0, LIMITS.logEntries)) {
    b.bytes(Field.LOG, Buffer.concat([Buffer.from([LogLevel[entry.level]]), Buffer.from(clip(entry.text), 'utf8')]));
  }
  return b.build();
}

/** An explicit refusal. It is sent with the worker's own version, which the module reads even
 * when the versions differ, so a mismatch is reported rather than a silent close. */
export function errorFrame(code: ErrorName, message: string): Buffer {
  return new FrameBuilder(MessageType.ERROR).u32(Field.ERROR_CODE, ErrorCode[code]).text(Field.TEXT, clip(message)).build();
}

/** Text fields are bounded by the protocol and must not contain NUL. */
function clip(text: string): string {
  const bytes = Buffer.from(text.replace(/\0/g, '\\x00'), 'utf8');
  if (bytes.length <= LIMITS.text) return bytes.toString('utf8');
  let end = LIMITS.text;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // do not cut a UTF-8 sequence in two
  return bytes.subarray(0, end).toString('utf8');
}
