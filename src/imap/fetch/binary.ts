/**
 * RFC 3516 BINARY[part]<partial> and BINARY.SIZE[part]: a part's body with its
 * Content-Transfer-Encoding removed. base64 and quoted-printable are decoded; 7bit, 8bit and
 * binary are already the content and pass through; any other encoding fails the command with
 * NO [UNKNOWN-CTE] (§4.3). An empty section is the whole message as stored — there is no transfer
 * encoding to remove from a header — and a part that does not exist is empty, as for BODY[].
 *
 * Decoding base64 or quoted-printable works on the part in memory (at most maxMessageSize): a
 * partial is cut from the decoded bytes, and BINARY.SIZE decodes to count (the RFC warns clients
 * it may be expensive). Large parts without a transfer encoding are streamed.
 */
import type { MessageStructure } from '../../mime/types.js';
import { decodeBase64, decodeQuotedPrintable } from '../../mime/transfer.js';
import { ImapError } from '../errors.js';
import { literal, type ImapValue } from '../wire/types.js';
import type { MessageSource } from './message-source.js';
import { applyPartial, findPart, slicePartial, type Partial } from './section.js';

/** Pieces larger than this are streamed (the same threshold as BODY[], render.ts). */
const STREAM_THRESHOLD = 64 * 1024;

/** Encodings whose bytes are already the content (RFC 2045 §6.2 identity encodings). */
const IDENTITY = new Set(['7bit', '8bit', 'binary']);

type Decoder = (bytes: Buffer) => Buffer;

/** The decoder for an encoding, or null for the identity encodings. Unknown ones: NO [UNKNOWN-CTE]. */
function decoderFor(encoding: string): Decoder | null {
  const e = encoding.trim().toLowerCase();
  if (IDENTITY.has(e)) return null;
  if (e === 'base64') return decodeBase64;
  if (e === 'quoted-printable') return decodeQuotedPrintable;
  throw ImapError.no(`Cannot decode Content-Transfer-Encoding ${encoding.slice(0, 40)}`, 'UNKNOWN-CTE');
}

interface BinaryTarget {
  start: number;
  end: number;
  decode: Decoder | null;
}

function binaryTarget(structure: MessageStructure, path: number[]): BinaryTarget | null {
  if (path.length === 0) return { start: 0, end: structure.size, decode: null };
  const part = findPart(structure, path);
  if (!part) return null;
  // A multipart or message/rfc822 part may only be 7bit, 8bit or binary (RFC 2045 §6.4): its body
  // passes through, and a bogus label on it is not a reason to refuse.
  const container = part.parts !== undefined || part.message !== undefined;
  return { start: part.bodyStart, end: part.bodyEnd, decode: container ? null : decoderFor(part.encoding) };
}

async function decodedBytes(src: MessageSource, path: number[]): Promise<Buffer> {
  const target = binaryTarget(await src.structure(), path);
  if (!target) return Buffer.alloc(0);
  const size = await src.size();
  const raw = await src.read({ start: Math.min(target.start, size), end: Math.min(target.end, size) }, size);
  return target.decode ? target.decode(raw) : raw;
}

/**
 * The value of BINARY[path]<partial>: a literal8 (`~{n}`) when the bytes hold a NUL, which a
 * plain literal may not carry (RFC 3501 §4.3); otherwise an ordinary string (RFC 3516 §4.3 SHOULD).
 * A large piece that needs no decoding is streamed from the store like BODY[] — always as a
 * literal8 then, since whether it holds a NUL is not known before it is announced.
 */
export async function binaryValue(src: MessageSource, path: number[], partial: Partial | undefined): Promise<ImapValue> {
  const target = binaryTarget(await src.structure(), path);
  if (!target) return '';
  if (!target.decode) {
    const size = await src.size();
    const range = applyPartial({ start: Math.min(target.start, size), end: Math.min(target.end, size) }, partial);
    const length = Math.max(0, range.end - range.start);
    if (length > STREAM_THRESHOLD) return literal(await src.stream(range), length, true);
  }
  const bytes = slicePartial(await decodedBytes(src, path), partial);
  if (bytes.length === 0) return '';
  return bytes.includes(0) ? literal(bytes, undefined, true) : literal(bytes);
}

/** BINARY.SIZE[path]: the length BINARY[path] would send. */
export async function binarySize(src: MessageSource, path: number[]): Promise<number> {
  const structure = await src.structure();
  const target = binaryTarget(structure, path);
  if (!target) return 0;
  // Identity encodings need no read: the size is the part's length.
  if (!target.decode) return Math.max(0, Math.min(target.end, await src.size()) - Math.min(target.start, await src.size()));
  return (await decodedBytes(src, path)).length;
}
