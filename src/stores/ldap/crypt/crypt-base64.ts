// The base-64 of crypt(3) ($1$, $5$, $6$): its own alphabet, and 24 bits written low bits first.

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** n characters for the 24-bit number b2:b1:b0, six bits at a time from the lowest. */
export function b64From24Bit(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** Salt characters crypt(3) accepts. */
export const SALT_CHARS = /^[./0-9A-Za-z]*$/;
