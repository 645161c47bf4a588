/**
 * The callback maildrop: the Net::Server::POP3 model. The application lists message ids,
 * retrieves and deletes by id; the server does everything POP3 needs on top of that.
 *
 * Sizes come from `size()` when given, else from measuring the retrieved message the way RETR
 * sends it (CRLF line ends), once per session and only when a client asks. UIDLs are the ids
 * themselves when they are valid RFC 1939 §7 unique-ids, otherwise a hash of the id — stable
 * because the id is.
 */
import { createHash } from 'node:crypto';
import type { Pop3Callbacks, Pop3MessageContent } from '../options.js';
import { Pop3Error } from '../errors.js';
import { measureOctets } from '../wire/multiline.js';
import type { Maildrop, MaildropSource } from './types.js';

const UNIQUE_ID = /^[\x21-\x7e]{1,70}$/;

export function uidlForId(id: string): string {
  if (UNIQUE_ID.test(id)) return id;
  return `h.${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
}

export async function* contentChunks(content: Pop3MessageContent): AsyncIterable<Buffer> {
  if (typeof content === 'string') {
    yield Buffer.from(content, 'utf8');
  } else if (content instanceof Uint8Array) {
    yield Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  } else {
    for await (const chunk of content) {
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
}

class CallbackMaildrop implements Maildrop {
  private readonly sizes = new Map<number, number>();
  private readonly uidls: string[];

  constructor(
    private readonly callbacks: Pop3Callbacks,
    private readonly user: string,
    private readonly ids: string[],
  ) {
    this.uidls = ids.map(uidlForId);
  }

  get count(): number {
    return this.ids.length;
  }

  async size(index: number): Promise<number> {
    const known = this.sizes.get(index);
    if (known !== undefined) return known;
    const id = this.ids[index];
    const size = this.callbacks.size ? await this.callbacks.size(this.user, id) : await measureOctets(this.content(index));
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`size(${id}) returned ${String(size)}`);
    this.sizes.set(index, size);
    return size;
  }

  uidl(index: number): string {
    return this.uidls[index];
  }

  async *content(index: number): AsyncIterable<Buffer> {
    yield* contentChunks(await this.callbacks.retrieve(this.user, this.ids[index]));
  }

  async commit(deleted: number[]): Promise<void> {
    let failed = 0;
    let firstError: unknown;
    // One at a time and in order, so an application's delete sees a predictable sequence.
    for (const index of [...deleted].sort((a, b) => a - b)) {
      try {
        await this.callbacks.delete(this.user, this.ids[index]);
      } catch (err) {
        failed += 1;
        firstError ??= err;
      }
    }
    if (failed > 0) {
      // RFC 1939 §6 QUIT: "-ERR some deleted messages not removed".
      throw new Pop3Error(`Some deleted messages not removed (${failed} of ${deleted.length}): ${String(firstError)}`.slice(0, 300), 'SYS/TEMP');
    }
  }

  async release(): Promise<void> {}
}

export function callbackMaildrops(callbacks: Pop3Callbacks): MaildropSource {
  return {
    async open(user) {
      const listed = await callbacks.list(user);
      // A repeated id would give two messages one UIDL, which RFC 1939 §7 forbids.
      const ids = [...new Set(listed.map(String))];
      return new CallbackMaildrop(callbacks, user, ids);
    },
  };
}
