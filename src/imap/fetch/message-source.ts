/**
 * One message's data for FETCH, loaded from the store only when an item asks for it and at most
 * once: the structure, and the bytes (the whole of a small message in one read; ranges of a large
 * one, or a stream when the piece itself is large). The batch may have loaded the structure and
 * the header block already (UserMailbox.messageHeads): items answered from those need no store
 * call and no promise (render.ts renderItemNow).
 */
import type { MessageStructure } from '../../mime/types.js';
import { headerRange } from '../../store/message-heads.js';
import type { ByteRange, MessageHead, MessageRecord, UserMailbox } from '../../store/types.js';

/** Messages up to this size are read whole once when a large piece of one is wanted (read()). */
const WHOLE_READ_LIMIT = 256 * 1024;

export class MessageSource {
  private structurePromise?: Promise<MessageStructure>;
  private rawPromise?: Promise<Buffer>;

  constructor(
    private readonly mail: UserMailbox,
    private readonly mailboxId: string,
    readonly uid: number,
    /** Present when the batch loaded records. */
    readonly record: MessageRecord | undefined,
    /** Present when the batch loaded structures (and perhaps header blocks). */
    private readonly head?: MessageHead,
  ) {}

  /** The structure when the batch loaded it (no store call needed). */
  get loadedStructure(): MessageStructure | undefined {
    return this.head?.structure;
  }

  structure(): Promise<MessageStructure> {
    this.structurePromise ??= this.head ? Promise.resolve(this.head.structure) : this.mail.structure(this.mailboxId, this.uid);
    return this.structurePromise;
  }

  /** Size of the whole message when known without a store call: from the record, or a loaded structure. */
  get knownSize(): number | undefined {
    return this.record ? this.record.size : this.head?.structure.size;
  }

  /** Size of the whole message, from the record when there is one. */
  async size(): Promise<number> {
    return this.knownSize ?? (await this.structure()).size;
  }

  /**
   * The bytes of `range` when it lies within the header block the batch loaded (BODY[HEADER],
   * HEADER.FIELDS of the message itself); undefined otherwise.
   */
  loadedBytes(range: ByteRange): Buffer | undefined {
    const header = this.head?.header;
    if (!header) return undefined;
    const start = headerRange(this.head!.structure).start;
    if (range.start < start || range.end > start + header.length || range.end < range.start) return undefined;
    // The block itself when it is all of it: the same Buffer each time a store's cache hands it
    // out, so the scan of its fields is kept (section.ts filterHeaderFields).
    if (range.start === start && range.end === start + header.length) return header;
    return header.subarray(range.start - start, range.end - start);
  }

  /**
   * Bytes of `range` of the message. A piece that is at least half of a message of at most
   * WHOLE_READ_LIMIT octets reads the whole message once (checked against its SHA-256) for any
   * further pieces; a smaller piece is read alone. A header for HEADER.FIELDS — asked over ranges of
   * up to 100 messages by clients listing a folder, as imaptest's FETCH does — would otherwise read
   * and hash every body whole: 18 % of the event loop's CPU under imaptest's default mix (bench/RESULTS.md).
   */
  async read(range: ByteRange, messageSize: number): Promise<Buffer> {
    const loaded = this.loadedBytes(range);
    if (loaded) return loaded;
    const most = (range.end - range.start) * 2 >= messageSize;
    if (this.rawPromise || (messageSize <= WHOLE_READ_LIMIT && most)) {
      this.rawPromise ??= this.mail.read(this.mailboxId, this.uid);
      const raw = await this.rawPromise;
      return raw.subarray(Math.min(range.start, raw.length), Math.min(range.end, raw.length));
    }
    return this.mail.read(this.mailboxId, this.uid, range);
  }

  /**
   * A stream of `range` (for large literals): asked for now, while the response is built, and read
   * when the output queue gets to it — so a store that looks the message up at the call keeps
   * serving it even if it is expunged meanwhile. A store that pins asynchronously is waited for
   * here, so a message expunged first fails this FETCH item (and is skipped) instead of a literal
   * already announced.
   */
  async stream(range: ByteRange): Promise<() => AsyncIterable<Buffer>> {
    const stream = this.mail.stream(this.mailboxId, this.uid, range);
    await stream.pinned;
    return () => stream;
  }
}
