// The module's syslog lines. The failure line has pam_unix's fields in pam_unix's order, so
// fail2ban reads it (docs/fail2ban/). Every value in it comes from the client or the calling
// program (Dovecot puts the login into PAM_RUSER as well as PAM_USER), so every value is escaped
// until it is one token that cannot start or end a field, and clipped to a bound of its own, so
// that no value can push rhost out of the line or shorten it into another address.

export interface LineContext {
  logname: string;
  uid: number | null;
  euid: number | null;
  tty: string;
  ruser: string;
  rhost: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

function plainAscii(bytes: Buffer, keepSpaces: boolean): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if ((b < 0x21 || b > 0x7e || b === 0x5c) && !(b === 0x20 && keepSpaces)) return false;
  }
  return true;
}

/** Escapes bytes that could break a log line: control characters, backslash, and (where a
 * field must stay one token) white space. Invalid UTF-8 appears as \xNN. */
export function escapeLogValue(value: Buffer | string, keepSpaces: boolean): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  // The usual value (a login, a service name) is printable ASCII without a backslash: as it is.
  if (plainAscii(bytes, keepSpaces)) return bytes.toString('latin1');
  const text = UTF8.decode(bytes);
  const valid = Buffer.from(text, 'utf8').equals(bytes);
  if (!valid) {
    return [...bytes].map((b) => (b >= 0x21 && b <= 0x7e && b !== 0x5c ? String.fromCharCode(b) : b === 0x20 && keepSpaces ? ' ' : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  }
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || ch === '\\' || (!keepSpaces && /\s/u.test(ch))) {
      out += c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** How many bytes each value of the failure line may take once escaped. rhost has room for any
 * real address or host name many times over; together with the fixed text they stay within
 * the LOG text limit, so the worker's clip of a whole LOG entry never touches this line. The
 * values before rhost add at most 384 bytes, so even a relay that keeps only RFC 3164's 1,024
 * bytes of a syslog message keeps a real rhost whole. */
export const FIELD_BOUNDS = { logname: 64, tty: 64, ruser: 256, rhost: 1024, user: 512 } as const;

/** Ends a value that was clipped. It cannot occur in an escaped value (a backslash there is
 * always \x5c), and it cannot end an address or a host name, so a clipped rhost is never read
 * as one. */
export const CUT_MARK = '\\...';

// Characters a field must not show as themselves: white space of any kind (fail2ban's \s is
// Unicode-aware), controls, format characters (bidi overrides could reorder what an
// administrator sees), unassigned and private-use code points, and the characters parsers of
// key=value lines give meaning to.
const MUST_ESCAPE = /[\p{C}\p{Z}\s\\="']/u;

/** A value as the units of its escaped form: a character, or \xNN for each UTF-8 byte of a
 * character that must not appear (each byte of invalid UTF-8 too). A clip falls between units. */
function escapeUnits(value: Buffer | string): string[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const hex = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`;
  const units: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const len = utf8Length(bytes, i);
    if (len === 0) {
      units.push(hex(bytes[i]));
      i += 1;
      continue;
    }
    const ch = bytes.subarray(i, i + len).toString('utf8');
    if (MUST_ESCAPE.test(ch)) {
      for (const b of bytes.subarray(i, i + len)) units.push(hex(b));
    } else {
      units.push(ch);
    }
    i += len;
  }
  return units;
}

/** The length of the well-formed UTF-8 sequence at bytes[i], or 0 when there is none. */
function utf8Length(bytes: Buffer, i: number): number {
  const b = bytes[i];
  const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (len <= 1 || i + len > bytes.length) return len === 1 ? 1 : 0;
  for (let k = 1; k < len; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return 0;
  const c = bytes[i + 1];
  // Overlong forms, UTF-16 surrogates, and code points above U+10FFFF.
  if ((b === 0xe0 && c < 0xa0) || (b === 0xed && c > 0x9f) || (b === 0xf0 && c < 0x90) || (b === 0xf4 && c > 0x8f)) return 0;
  return len;
}

/** One value of the failure line: escaped so it is a single token without `=`, quotes or
 * backslashes, and at most `bound` bytes; a longer one is cut between units and ends in CUT_MARK. */
export function logField(value: Buffer | string, bound: number): string {
  const units = escapeUnits(value);
  const size = (u: string): number => Buffer.byteLength(u, 'utf8');
  if (units.reduce((n, u) => n + size(u), 0) <= bound) return units.join('');
  let out = '';
  let used = 0;
  for (const u of units) {
    if (used + size(u) > bound - CUT_MARK.length) break;
    out += u;
    used += size(u);
  }
  return out + CUT_MARK;
}

export function failureLine(ctx: LineContext, user: Buffer | null): string {
  const f = FIELD_BOUNDS;
  const head = `authentication failure; logname=${logField(ctx.logname, f.logname)} uid=${ctx.uid ?? ''} euid=${ctx.euid ?? ''} tty=${logField(ctx.tty, f.tty)} ruser=${logField(ctx.ruser, f.ruser)} rhost=${logField(ctx.rhost, f.rhost)}`;
  return user === null || user.length === 0 ? head : `${head} user=${logField(user, f.user)}`;
}

/** The longest failure line the bounds allow (uids of 10 digits); a unit test holds it within
 * LIMITS.text. */
export const LONGEST_FAILURE_LINE = Buffer.byteLength('authentication failure; logname= uid= euid= tty= ruser= rhost= user=') + 2 * 10 +
  Object.values(FIELD_BOUNDS).reduce((a, b) => a + b, 0);
