// The protocol's messages as typed values: decoding what the module sends, building what the
// worker answers. Field meanings are in docs/protocol.md.
import {
  ErrorCode, ErrorName, Field, LIMITS, LogLevel, LogLevelName, MAX_ARGS, MessageType, Op, PasswordFrom,
  Result, ResultName,
} from './constants';
import { forEachField, FrameBuilder, FrameError } from './frame';

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
  /** What libpam's pam_get_authtok() gave the module for an authentication request; null for
   * an account request. */
  password: ModulePassword | null;
}

/** The password of an authentication request, or why the module has none. The module got it
 * before it connected, with pam_get_authtok(): an earlier module's PAM_AUTHTOK, or the answer
 * to libpam's prompt (then stored as PAM_AUTHTOK). The secret is a copy the worker must wipe. */
export type ModulePassword =
  | { kind: 'ok'; from: 'earlier' | 'prompt'; secret: Buffer }
  /** use_first_pass and no earlier module's PAM_AUTHTOK: libpam did not prompt. */
  | { kind: 'none' }
  /** The conversation failed, gave no answer, or there was none. */
  | { kind: 'conv_failed' };

export interface LogEntry {
  level: LogLevelName;
  text: string;
}

/** Where each field of the request being read starts and ends in its payload (-1: absent),
 * by tag. decodeRequest is synchronous, so one table serves every request; a view per field
 * would cost a Buffer object each. */
const REQUEST_TAGS = 32;
const where = new Int32Array(REQUEST_TAGS * 2);
/** The tags readRequest reads (each at most once; ARG apart). Any other tag is skipped, however
 * often it comes, so that a newer module may add optional fields. */
const READ: readonly number[] = [Field.OP, Field.SERVICE, Field.USER, Field.RHOST, Field.RUSER, Field.TTY, Field.LOGNAME,
  Field.UID, Field.EUID, Field.PASSWORD, Field.PASSWORD_FROM];
const isRead = new Uint8Array(256);
for (const tag of READ) {
  if (tag >= REQUEST_TAGS) throw new Error('a field tag beyond the request table: raise REQUEST_TAGS');
  isRead[tag] = 1;
}

function u32At(payload: Buffer, tag: number): number | null {
  const start = where[tag * 2];
  if (start < 0) return null;
  if (where[tag * 2 + 1] - start !== 4) throw new FrameError(`field ${tag} must be 4 bytes`, 'malformed');
  return payload.readUInt32BE(start);
}

function textAt(payload: Buffer, tag: number): string {
  const start = where[tag * 2];
  return start < 0 ? '' : payload.toString('utf8', start, where[tag * 2 + 1]);
}

function bytesAt(payload: Buffer, tag: number): Buffer | null {
  const start = where[tag * 2];
  return start < 0 ? null : payload.subarray(start, where[tag * 2 + 1]);
}

/** A REQUEST the worker could not read is wiped whole: it may hold a password. */
export function decodeRequest(type: number, payload: Buffer): PamRequest {
  try {
    return readRequest(type, payload);
  } catch (e) {
    payload.fill(0);
    throw e;
  }
}

function readRequest(type: number, payload: Buffer): PamRequest {
  if (type !== MessageType.REQUEST) throw new FrameError(`expected a request, got message type ${type}`, 'malformed');
  // One pass over the fields. If anything below throws, decodeRequest wipes the payload, and
  // with it the password's bytes; otherwise passwordOf does.
  where.fill(-1);
  const args: string[] = [];
  forEachField(payload, (tag, start, end) => {
    if (tag === Field.ARG) {
      if (args.length > MAX_ARGS) throw new FrameError(`more than ${MAX_ARGS + 1} module arguments`, 'malformed');
      args.push(payload.toString('utf8', start, end));
    } else if (isRead[tag] === 1) {
      if (where[tag * 2] >= 0) throw new FrameError(`field ${tag} appears more than once`, 'malformed');
      where[tag * 2] = start;
      where[tag * 2 + 1] = end;
    }
  });
  const opCode = u32At(payload, Field.OP);
  const op: Operation | null = opCode === Op.AUTHENTICATE ? 'authenticate' : opCode === Op.ACCOUNT ? 'account' : null;
  if (op === null) throw new FrameError(`unknown operation ${String(opCode)}`, 'malformed');
  const uid = u32At(payload, Field.UID);
  const euid = u32At(payload, Field.EUID);
  const from = u32At(payload, Field.PASSWORD_FROM);
  const truncated = args.length > MAX_ARGS;
  if (truncated) args.length = MAX_ARGS;
  const req: PamRequest = {
    op, service: textAt(payload, Field.SERVICE), user: bytesAt(payload, Field.USER), rhost: textAt(payload, Field.RHOST),
    ruser: textAt(payload, Field.RUSER), tty: textAt(payload, Field.TTY), logname: textAt(payload, Field.LOGNAME),
    uid, euid, args, argsTruncated: truncated, password: null,
  };
  // Last, so that no later check can throw a copy of the password away unwiped.
  req.password = passwordOf(op, bytesAt(payload, Field.PASSWORD), from);
  return req;
}

/** PASSWORD_FROM and PASSWORD: the password as a copy the caller must wipe, the frame's bytes
 * wiped whatever else is wrong with the request. */
function passwordOf(op: Operation, raw: Buffer | null, from: number | null): ModulePassword | null {
  const secret = raw === null ? null : Buffer.from(raw);
  raw?.fill(0);
  try {
    if (op === 'account') {
      // The module never sends a password with an account request.
      if (from !== null || secret !== null) throw new FrameError('an account request carries no password', 'malformed');
      return null;
    }
    if (from === PasswordFrom.EARLIER || from === PasswordFrom.PROMPT) {
      if (secret === null) throw new FrameError('PASSWORD_FROM names a password the request does not carry', 'malformed');
      return { kind: 'ok', from: from === PasswordFrom.EARLIER ? 'earlier' : 'prompt', secret };
    }
    if (secret !== null) throw new FrameError('a password with PASSWORD_FROM saying there is none', 'malformed');
    if (from === PasswordFrom.NONE) return { kind: 'none' };
    if (from === PasswordFrom.CONV_FAILED) return { kind: 'conv_failed' };
    throw new FrameError(from === null ? 'an authentication request without PASSWORD_FROM' : `unknown PASSWORD_FROM ${from}`, 'malformed');
  } catch (e) {
    secret?.fill(0);
    throw e;
  }
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

/** Control characters and line separators, which a syslog daemon may pass on as a line break:
 * a store's error message (an LDAP server's text, a KDC's realm) must not start a forged line. */
const LINE_BREAKING = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** Text fields are what the module writes to syslog: one line each, bounded by the protocol. */
function clip(text: string): string {
  const bytes = Buffer.from(text.replace(LINE_BREAKING, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16)}`;
  }), 'utf8');
  if (bytes.length <= LIMITS.text) return bytes.toString('utf8');
  let end = LIMITS.text;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // do not cut a UTF-8 sequence in two
  return bytes.subarray(0, end).toString('utf8');
}
