/**
 * Receives a message's bytes once, so it can be stored for many recipients without being held
 * whole in memory.
 *
 * On the way in: bare LF (or CR) line ends become CRLF (what IMAP sizes and FETCH assume), NUL bytes are
 * noticed, the header section is kept (for the filter step), and bytes past the size limit are
 * counted but not kept. Small messages stay in memory; once a message grows past `memoryMax` it
 * moves to a temporary file that is unlinked as soon as it is opened, so a crash leaves nothing
 * behind. Each recipient's copy is then read from there: one Buffer when small (the same bytes
 * for every recipient, so a content-addressed store keeps them once), a stream of positional
 * reads of the file when large.
 */
import { randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageContent } from '../store/types.js';
import { CrlfNormalizer } from '../store/line-ends.js';
import { HeaderSection } from './header-section.js';

export interface SpoolOptions {
  /** Messages up to this many bytes stay in memory. */
  memoryMax: number;
  /** Bytes past this are not kept; the message is then `oversized`. */
  maxSize: number;
  /** Where the temporary file of a large message is made. */
  directory: string;
}

export { MAX_HEADER_BYTES } from './header-section.js';
/**
 * The temporary file is written and read in pieces of up to 1 MiB, not in the 64 KiB pieces the
 * socket delivers: each piece is a trip through libuv's thread pool and a promise, and at 16 of
 * them per megabyte, twice (in and out), they were the largest item of a 1 MB delivery's
 * event-loop time (bench:lmtp --cpu-prof, bench/RESULTS.md).
 */
const FILE_PIECE = 1024 * 1024;

export class MessageSpool {
  private chunks: Buffer[] = [];
  private file: FileHandle | null = null;
  private fileSize = 0;
  /** Bytes bound for the file, gathered into one write of up to FILE_PIECE. */
  private unwritten: Buffer[] = [];
  private unwrittenSize = 0;
  /** Octets after line-end normalisation (what will be stored). */
  size = 0;
  /** Octets as received. */
  receivedSize = 0;
  hasNul = false;
  oversized = false;
  /** A write to the temporary file failed; later bytes are dropped and the message cannot be delivered. */
  error: unknown = null;
  private readonly lineEnds = new CrlfNormalizer();
  private readonly header = new HeaderSection();
  private released = false;
  /** Set by forwardTo(): the message goes on as it arrives and nothing of its body is kept here. */
  private forward: ((chunk: Buffer) => Promise<void>) | null = null;

  constructor(private readonly options: SpoolOptions) {}

  /**
   * Hands each piece on (line ends normalised) instead of keeping it: for a delivery that stores
   * the message while it arrives (DeliveryPipeline.startLive), so its bytes are written once, by
   * the store. Sizes, NUL, the header section and the size limit are still tracked; the body
   * cannot be read back from here. Before the first write only.
   */
  forwardTo(sink: (chunk: Buffer) => Promise<void>): void {
    if (this.receivedSize > 0) throw new Error('forwardTo after the first write');
    this.forward = sink;
  }

  /** Takes the next piece of the message. Resolves when it may be given the next one. */
  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.receivedSize += chunk.length;
    if (this.oversized || this.error !== null) return;
    if (this.receivedSize > this.options.maxSize) {
      // Refused whatever follows: nothing of it is kept (RFC 1870 §6: the server may discard).
      this.oversized = true;
      await this.dropKept();
      return;
    }
    if (!this.hasNul && chunk.includes(0)) this.hasNul = true;
    const normal = this.normalize(chunk);
    this.size += normal.length;
    this.header.push(normal);
    if (this.forward) return this.forward(normal);
    try {
      if (this.file) return await this.append(normal);
      this.chunks.push(normal);
      if (this.size > this.options.memoryMax) await this.moveToFile();
    } catch (err) {
      this.error = err;
      await this.dropKept();
    }
  }

  /** The header section seen so far (all of it once the blank line has passed), CRLF line ends. */
  headerBytes(): Buffer {
    return this.header.bytes();
  }

  /** The whole message as it will be stored (without trace headers), read into memory. */
  async bytes(): Promise<Buffer> {
    const content = this.content(Buffer.alloc(0));
    if (Buffer.isBuffer(content)) return content;
    const parts: Buffer[] = [];
    for await (const chunk of content) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** At most `maxBytes` of the body (what follows the header section's blank line). */
  async bodyBytes(maxBytes: number): Promise<Buffer> {
    const header = this.headerBytes();
    // headerBytes ends with the last field's CRLF; the blank line's CRLF follows (unless cut at 64 KiB).
    const start = header.length === 0 ? 2 : header.length + 2;
    const want = start + maxBytes;
    const content = this.content(Buffer.alloc(0));
    if (Buffer.isBuffer(content)) return content.subarray(Math.min(start, content.length), Math.min(want, content.length));
    const parts: Buffer[] = [];
    let got = 0;
    for await (const chunk of content) {
      parts.push(chunk);
      got += chunk.length;
      if (got >= want) break;
    }
    const all = Buffer.concat(parts);
    return all.subarray(Math.min(start, all.length), Math.min(want, all.length));
  }

  /** headerBytes() is the whole header section (not cut at MAX_HEADER_BYTES, and its end seen). */
  get headerComplete(): boolean {
    return this.header.complete(this.size);
  }

  /**
   * `prefix`, then `header` in place of the received header section, then the rest of the message
   * (the blank line and the body) as received. For Sieve's editheader (RFC 5293); only when
   * headerComplete, since otherwise the received header's end is not known.
   */
  contentWithHeader(prefix: Buffer, header: Buffer): MessageContent {
    if (!this.headerComplete) throw new Error('the header section is not wholly known');
    if (this.released) throw new Error('the spooled message was released');
    if (this.forward) throw new Error('the message was handed on as it arrived, not kept');
    const skip = this.header.length;
    if (!this.file) {
      const whole = Buffer.concat(this.chunks, this.size);
      return Buffer.concat([prefix, header, whole.subarray(skip)]);
    }
    return readFrom(this.file, Buffer.concat([prefix, header]), this.fileSize, this.unwritten, skip);
  }

  get inMemory(): boolean {
    return this.file === null;
  }

  /** `prefix` (the trace headers) followed by the message. */
  content(prefix: Buffer): MessageContent {
    if (this.released) throw new Error('the spooled message was released');
    if (this.forward) throw new Error('the message was handed on as it arrived, not kept');
    if (!this.file) return Buffer.concat([prefix, ...this.chunks], prefix.length + this.size);
    return readFrom(this.file, prefix, this.fileSize, this.unwritten);
  }

  /** Frees memory and closes the temporary file (already unlinked). Safe to call more than once. */
  async release(): Promise<void> {
    this.released = true;
    await this.dropKept();
  }

  private async dropKept(): Promise<void> {
    this.chunks = [];
    this.unwritten = [];
    this.unwrittenSize = 0;
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => undefined);
  }

  /** Bare LF or CR → CRLF (src/store/line-ends.ts, the one place that rule lives). */
  private normalize(chunk: Buffer): Buffer {
    return this.lineEnds.push(chunk);
  }

  private async moveToFile(): Promise<void> {
    const path = join(this.options.directory, `lmtp-${process.pid}-${randomBytes(8).toString('hex')}`);
    const file = await open(path, 'wx+', 0o600);
    // Unlinked at once: the open descriptor keeps the bytes, and no crash can leave them behind.
    await unlink(path).catch(() => undefined);
    this.file = file;
    const pending = this.chunks;
    this.chunks = [];
    for (const piece of pending) await this.append(piece);
  }

  private async append(piece: Buffer): Promise<void> {
    this.unwritten.push(piece);
    this.unwrittenSize += piece.length;
    if (this.unwrittenSize < FILE_PIECE) return;
    const pieces = this.unwritten;
    this.unwritten = [];
    this.unwrittenSize = 0;
    const { bytesWritten } = await this.file!.writev(pieces, this.fileSize);
    this.fileSize += bytesWritten;
    // A short write (rare: a signal, a nearly full disk) goes on piece by piece.
    let skip = bytesWritten;
    for (const p of pieces) {
      if (skip >= p.length) {
        skip -= p.length;
        continue;
      }
      for (let offset = skip; offset < p.length; ) {
        const { bytesWritten: n } = await this.file!.write(p, offset, p.length - offset, this.fileSize);
        offset += n;
        this.fileSize += n;
      }
      skip = 0;
    }
  }
}

/**
 * `prefix`, then the file's bytes from `start` by positional reads (many recipients may read at
 * once), then `tail`: the last bytes, not written to the file (the message ended before they made
 * a piece). A `start` beyond the file skips into the tail.
 */
async function* readFrom(file: FileHandle, prefix: Buffer, size: number, tail: readonly Buffer[], start = 0): AsyncGenerator<Buffer> {
  if (prefix.length > 0) yield prefix;
  for (let position = start; position < size; ) {
    const buffer = Buffer.allocUnsafe(Math.min(FILE_PIECE, size - position));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) throw new Error('the spooled message is shorter than written');
    position += bytesRead;
    yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  }
  let skip = Math.max(0, start - size);
  for (const piece of tail) {
    if (skip >= piece.length) {
      skip -= piece.length;
      continue;
    }
    yield skip > 0 ? piece.subarray(skip) : piece;
    skip = 0;
  }
}
