// The protocol's messages as typed values: decoding what the module sends, building what the
// worker answers. Field meanings are in docs/protocol.md.
import {
  ErrorCode, ErrorName, Field, LIMITS, LogLevel, LogLevelName, MAX_ARGS, MessageType, Op, PasswordFrom,
  Result, ResultName,
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
  const fields = decodeFields(payload);
  const opCode = u32(fields, Field.OP);
  const op: Operation | null = opCode === Op.AUTHENTICATE ? 'authenticate' : opCode === Op.ACCOUNT ? 'account' : null;
  if (op === null) throw new FrameError(`unknown operation ${String(opCode)}`, 'malformed');
  const args = fields.filter((f) => f.tag === Field.ARG).map((f) => f.value.toString('utf8'));
  if (args.length > MAX_ARGS + 1) throw new FrameError(`more than ${MAX_ARGS + 1} module arguments`, 'malformed');
  const service = lenientText(fields, Field.SERVICE);
  const user = single(fields, Field.USER);
  const rhost = lenientText(fields, Field.RHOST);
  const ruser = lenientText(fields, Field.RUSER);
  const tty = lenientText(fields, Field.TTY);
  const logname = lenientText(fields, Field.LOGNAME);
  const uid = u32(fields, Field.UID);
  const euid = u32(fields, Field.EUID);
  // Last, so that no later check can throw a copy of the password away unwiped.
  const password = passwordOf(op, fields);
  return {
    op, service, user, rhost, ruser, tty, logname, uid, euid,
    args: args.slice(0, MAX_ARGS), argsTruncated: args.length > MAX_ARGS, password,
  };
}

/** PASSWORD_FROM and PASSWORD: the password as a copy the caller must wipe, the frame's bytes
 * wiped whatever else is wrong with the request. */
function passwordOf(op: Operation, fields: FieldValue[]): ModulePassword | null {
  const raw = fields.filter((f) => f.tag === Field.PASSWORD);
  const secret = raw.length === 1 ? Buffer.from(raw[0].value) : null;
  for (const f of raw) f.value.fill(0);
  try {
    if (raw.length > 1) throw new FrameError(`field ${Field.PASSWORD} appears more than once`, 'malformed');
    const from = u32(fields, Field.PASSWORD_FROM);
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
