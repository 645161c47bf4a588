/**
 * Maildir and mbox files usually end lines with a bare LF; IMAP sizes and bytes are defined over
 * CRLF lines (RFC 3501 §2.3.4 RFC822.SIZE), so imported messages are normalised: every LF not
 * already preceded by CR becomes CRLF. CRLF input passes through unchanged, so re-importing an
 * export gives the same bytes (and the same content hash).
 */
export function toCrlf(input: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < input.length; i++) if (input[i] === 0x0a && (i === 0 || input[i - 1] !== 0x0d)) extra++;
  if (extra === 0) return input;
  const out = Buffer.allocUnsafe(input.length + extra);
  let o = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b === 0x0a && (i === 0 || input[i - 1] !== 0x0d)) out[o++] = 0x0d;
    out[o++] = b;
  }
  return out;
}

export function toLf(input: Buffer): Buffer {
  let o = 0;
  const out = Buffer.allocUnsafe(input.length);
  for (let i = 0; i < input.length; i++) {
    if (input[i] === 0x0d && input[i + 1] === 0x0a) continue;
    out[o++] = input[i]!;
  }
  return out.subarray(0, o);
}
