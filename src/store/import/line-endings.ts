/**
 * Maildir and mbox files usually end lines with a bare LF; imported messages are stored with CRLF
 * like every other (the rule and its one implementation: src/store/line-ends.ts). CRLF input passes
 * through unchanged, so re-importing an export gives the same bytes (and the same content hash).
 */
export { toCrlf } from '../line-ends.js';

export function toLf(input: Buffer): Buffer {
  let o = 0;
  const out = Buffer.allocUnsafe(input.length);
  for (let i = 0; i < input.length; i++) {
    if (input[i] === 0x0d && input[i + 1] === 0x0a) continue;
    out[o++] = input[i]!;
  }
  return out.subarray(0, o);
}
