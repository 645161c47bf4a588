/**
 * Pieces of a scripted delivery that stores the message while it arrives
 * (DeliveryPipeline.startLive): the header section read off the front of the stream for the
 * filter, the stream put back together behind it, and later copies that name the first one's
 * bytes instead of carrying them again.
 */
import type { Hash } from 'node:crypto';
import type { UserMailbox } from '../store/types.js';
import { HeaderSection } from './header-section.js';

/** The front of a message, read until its header section is complete (or the message ended). */
export interface MessageFront {
  /** The chunks read, in order: the header section and whatever of the body came with it. */
  chunks: Buffer[];
  header: HeaderSection;
  /** Octets read. */
  size: number;
  /** The message ended within these chunks. */
  ended: boolean;
}

/** Reads chunks from `reader` until the header section's end (or MAX_HEADER_BYTES, or the message's end). */
export async function readFront(reader: AsyncIterator<Buffer>): Promise<MessageFront> {
  const front: MessageFront = { chunks: [], header: new HeaderSection(), size: 0, ended: false };
  for (;;) {
    const next = await reader.next();
    if (next.done) {
      front.ended = true;
      return front;
    }
    front.chunks.push(next.value);
    front.size += next.value.length;
    if (front.header.push(next.value)) return front;
  }
}

/** `front`'s chunks (the trace headers first, from a scripted delivery), then the rest of `reader`; a reader left early is told (return()). */
export async function* resumed(front: readonly Buffer[], reader: AsyncIterator<Buffer>, ended: boolean): AsyncGenerator<Buffer> {
  try {
    for (const chunk of front) yield chunk; // not yield*: that wraps the array in an async iterator
    if (ended) return;
    for (;;) {
      const next = await reader.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.return?.();
  }
}

/** `content`, each chunk also fed to `hash` (its digest is over exactly the bytes stored). */
export async function* hashed(content: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of content) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * The bytes of a message already stored, read back only if the store asks for them: a store that
 * keeps bodies by digest (AppendInput.sha256) adds a reference without reading (nothing is opened
 * until the first chunk is wanted).
 */
export async function* storedBytes(mail: UserMailbox, mailboxId: string, uid: number): AsyncGenerator<Buffer> {
  yield* mail.stream(mailboxId, uid);
}

/** Drains `reader` to its end (so that a withdrawn message is noticed), keeping nothing. */
export async function drain(reader: AsyncIterator<Buffer>, ended: boolean): Promise<void> {
  if (ended) return;
  for (;;) if ((await reader.next()).done) return;
}
