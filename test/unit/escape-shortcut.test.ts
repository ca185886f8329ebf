// escapeLogValue's shortcut for plain ASCII (src/worker/syslog-line.ts) gives exactly what the
// full escape gives: the reference below is the function as it was before the shortcut.
import { escapeLogValue } from '../../src/worker/syslog-line';

function reference(value: Buffer | string, keepSpaces: boolean): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
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

test('every ASCII byte, alone and inside a name, with and without spaces kept', () => {
  for (const keep of [true, false]) {
    for (let b = 0; b < 0x80; b++) {
      for (const v of [Buffer.from([b]), Buffer.from(`al${String.fromCharCode(b)}ice`, 'latin1')]) {
        expect(escapeLogValue(v, keep)).toBe(reference(v, keep));
        expect(escapeLogValue(v.toString('latin1'), keep)).toBe(reference(v.toString('latin1'), keep));
      }
    }
    for (const v of ['', 'alice@example.org', 'a b', 'ä', 'x\u2028y', Buffer.from([0x61, 0xff]), 'back\\slash']) {
      expect(escapeLogValue(v, keep)).toBe(reference(v, keep));
    }
  }
});
