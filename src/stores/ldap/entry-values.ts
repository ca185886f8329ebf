// Attribute values of a search result entry, whatever shape ldapts gives them (a string, a
// Buffer, or arrays of either) and whatever case the server spelled the attribute name in.
import type { Entry } from 'ldapts';

function raw(entry: Entry, name: string): Array<string | Buffer> {
  const want = name.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'dn' || key.toLowerCase() !== want) continue;
    return Array.isArray(value) ? value : [value];
  }
  return [];
}

/** The values as bytes (for userPassword, which need not be text). */
export function bufferValues(entry: Entry, name: string): Buffer[] {
  return raw(entry, name).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')));
}

/** The values as text. */
export function stringValues(entry: Entry, name: string): string[] {
  return raw(entry, name).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}
