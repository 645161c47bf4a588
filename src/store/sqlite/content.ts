/**
 * Receives APPEND content. Small bodies are gathered in memory (they become an inline BLOB); once a
 * body grows past `inlineMax` the gathered chunks are flushed to a temp file and the rest streams
 * straight to disk, so a large literal is never held as a list of chunks plus a joined copy.
 */
import { createHash, type Hash } from 'node:crypto';
import type { MessageContent } from '../types.js';
import type { BlobFiles, TempBlob } from './blob-files.js';
import { gatherSmallChunks } from '../line-ends.js';

export type Collected =
  | { kind: 'inline'; sha256: Buffer; size: number; body: Buffer }
  | {
      kind: 'file';
      sha256: Buffer;
      size: number;
      tempPath: string;
      /** The bytes too, when small enough to have been kept while written (TempBlob). */
      body: Buffer | undefined;
      /** Gives `body`'s memory back for reuse (kept-bytes.ts): call once nothing reads it any more. */
      release: () => void;
      /** The temp file's close, still under way (TempBlob.finish): BlobFiles.install awaits it. */
      closed: Promise<void>;
    };

/** Done with a collected body's bytes in memory (the file, if any, is another matter). */
export function releaseCollected(collected: Collected): void {
  if (collected.kind === 'file') collected.release();
}

/** Bytes a literal announced above inlineMax has sent before its temp file is opened. */
const OPEN_FILE_AFTER = 64 * 1024;

export async function collectContent(content: MessageContent, inlineMax: number, files: BlobFiles): Promise<Collected> {
  if (Buffer.isBuffer(content) && content.length <= inlineMax) {
    return { kind: 'inline', sha256: sha256(content), size: content.length, body: content };
  }
  // Small chunks copied together (gatherSmallChunks): kept as they came, a literal sent a byte per
  // TCP segment held a Buffer (~200 bytes of heap) per byte — 14 MB for a 70 KB literal (review) —
  // and a source reusing its buffer could change bytes already hashed. Through IMAP crlfContent
  // has gathered them already; this covers every other caller.
  const source: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(content) ? [content] : gatherSmallChunks(content);
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let temp: TempBlob | null = null;
  // A streamed IMAP literal announces its size (StreamedLiteral.size, carried through crlfContent
  // as a lower bound: CRLF normalising only adds bytes). Nothing is allocated or opened for it
  // before its first byte: a client that sends `APPEND INBOX {262000}` and then nothing holds no
  // buffer, file or descriptor for it (memory grows only with the bytes received).
  const announced = announcedSize(content);
  // Larger than inlineMax: it goes to a file, created (a trip through the thread pool) once
  // OPEN_FILE_AFTER bytes have come, while the rest of the literal is still coming, not after
  // inlineMax of them, when the APPEND would wait for it (issue 23) — and not at its first byte,
  // where a client sending one byte and then nothing would hold a file, a descriptor and one of the
  // process's direct-write slots for the literal's whole deadline (review).
  const toFile = (announced ?? 0) > inlineMax;
  let opening: Promise<TempBlob> | null = null;
  // At or below inlineMax (a streamed literal of 64 KiB to inlineMax): hashed as each chunk
  // arrives, in the gaps between the client's reads, instead of whole after its last byte, work
  // that delayed the transaction and so the tagged OK of a 250 KB APPEND (issue 23). The chunks
  // are kept as they came and joined once at the end.
  let hash: Hash | null = announced !== undefined && !toFile ? createHash('sha256') : null;
  try {
    for await (const chunk of source) {
      if (temp) {
        await temp.write(chunk);
        continue;
      }
      if (toFile && !opening && pendingSize + chunk.length >= Math.min(OPEN_FILE_AFTER, inlineMax)) {
        opening = files.createTemp();
        opening.catch(() => undefined); // awaited below, or dropped if the content fails first
      }
      hash?.update(chunk);
      pending.push(chunk);
      pendingSize += chunk.length;
      if (pendingSize > inlineMax) {
        // More than inlineMax after all (or as announced): the file hashes what it is given.
        hash = null;
        temp = await (opening ?? files.createTemp());
        opening = null;
        for (const p of pending) await temp.write(p);
        pending = [];
      }
    }
    if (!temp) {
      // Shorter than it said: kept inline after all, and the file opened for it goes.
      if (opening) await dropTemp(opening);
      const body = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingSize);
      return { kind: 'inline', sha256: hash ? hash.digest() : sha256(body), size: body.length, body };
    }
    const { sha256: digest, body, release, closed } = await temp.finish();
    return { kind: 'file', sha256: digest, size: temp.size, tempPath: temp.path, body, release, closed };
  } catch (err) {
    if (temp) await temp.abort();
    else if (opening) await dropTemp(opening);
    throw err;
  }
}

/** The size a streamed content announces before its bytes (an IMAP literal's), if it does. */
function announcedSize(content: MessageContent): number | undefined {
  const size = Buffer.isBuffer(content) ? undefined : (content as { size?: unknown }).size;
  return typeof size === 'number' ? size : undefined;
}

/** Removes a temp file opened for content that did not need it (or failed); its own failure to open is moot. */
async function dropTemp(opening: Promise<TempBlob>): Promise<void> {
  const temp = await opening.catch(() => null);
  await temp?.abort();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
