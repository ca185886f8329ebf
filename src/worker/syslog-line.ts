// The module's syslog lines. The failure line has pam_unix's fields in pam_unix's order, so
// fail2ban's pam-generic filter reads it; every value is escaped, because user, rhost and tty
// come from the client.

export interface LineContext {
  logname: string;
  uid: number | null;
  euid: number | null;
  tty: string;
  ruser: string;
  rhost: string;
}

/** Escapes bytes that could break a log line: control characters, backslash, and (where a
 * field must stay one token) white space. Invalid UTF-8 appears as \xNN. */
export function escapeLogValue(value: Buffer | string, keepSpaces: boolean): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
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

export function failureLine(ctx: LineContext, user: Buffer | null): string {
  const tok = (v: string): string => escapeLogValue(v, false);
  const head = `authentication failure; logname=${tok(ctx.logname)} uid=${ctx.uid ?? ''} euid=${ctx.euid ?? ''} tty=${tok(ctx.tty)} ruser=${tok(ctx.ruser)} rhost=${tok(ctx.rhost)}`;
  return user === null || user.length === 0 ? head : `${head} user=${escapeLogValue(user, true)}`;
}
