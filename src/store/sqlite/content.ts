/**
 * Receives APPEND content. Small bodies are gathered in memory (they become an inline BLOB); once a
 * body grows past `inlineMax` the gathered chunks are flushed to a temp file and the rest streams
 * straight to disk, so a large literal is never held as a list of chunks plus a joined copy.
 */
import { createHash } from 'node:crypto';
import type { MessageContent } from '../types.js';
import type { BlobFiles, TempBlob } from './blob-files.js';

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
    };

/** Done with a collected body's bytes in memory (the file, if any, is another matter). */
export function releaseCollected(collected: Collected): void {
  if (collected.kind === 'file') collected.release();
}

export async function collectContent(content: MessageContent, inlineMax: number, files: BlobFiles): Promise<Collected> {
  if (Buffer.isBuffer(content) && content.length <= inlineMax) {
    return { kind: 'inline', sha256: sha256(content), size: content.length, body: content };
  }
  const source: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(content) ? [content] : content;
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let temp: TempBlob | null = null;
  try {
    for await (const chunk of source) {
      if (temp) {
        await temp.write(chunk);
        continue;
      }
      pending.push(chunk);
      pendingSize += chunk.length;
      if (pendingSize > inlineMax) {
        temp = await files.createTemp();
        for (const p of pending) await temp.write(p);
        pending = [];
      }
    }
    if (!temp) {
      const body = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingSize);
      return { kind: 'inline', sha256: sha256(body), size: body.length, body };
    }
    const { sha256: digest, body, release } = await temp.finish();
    return { kind: 'file', sha256: digest, size: temp.size, tempPath: temp.path, body, release };
  } catch (err) {
    if (temp) await temp.abort();
    throw err;
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
