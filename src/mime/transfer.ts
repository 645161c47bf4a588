/** Content-Transfer-Encoding decoding (RFC 2045 §6.7 quoted-printable, §6.8 base64). */

const EQ = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Quoted-printable: "=XX" escapes and soft line breaks ("=" + optional padding + EOL) removed. */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let o = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== EQ) {
      out[o++] = c;
      continue;
    }
    const hi = hexValue(input[i + 1]);
    const lo = hexValue(input[i + 2]);
    if (hi >= 0 && lo >= 0) {
      out[o++] = (hi << 4) | lo;
      i += 2;
      continue;
    }
    let j = i + 1;
    while (input[j] === 0x20 || input[j] === 0x09) j++;
    if (input[j] === CR && input[j + 1] === LF) i = j + 1;
    else if (input[j] === LF) i = j;
    else if (j >= input.length) i = j;
    else out[o++] = c; // a stray "=" is kept, as RFC 2045 §6.7 (1) suggests for robustness
  }
  return out.subarray(0, o);
}

/** Base64, ignoring line breaks and any other characters outside the alphabet. */
export function decodeBase64(input: Buffer): Buffer {
  return Buffer.from(input.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}

export function decodeTransfer(input: Buffer, encoding: string): Buffer {
  const e = encoding.toLowerCase();
  if (e === 'base64') return decodeBase64(input);
  if (e === 'quoted-printable') return decodeQuotedPrintable(input);
  return input;
}
