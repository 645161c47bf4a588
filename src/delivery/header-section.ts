/**
 * Finds a message's header section in its bytes as they arrive (CRLF line ends): everything up to
 * and including the last field's CRLF, before the blank line — or the first MAX_HEADER_BYTES when
 * the blank line does not come by then. Used by the spool (for the filter step) and by a streamed
 * scripted delivery (the script runs once the header section is in, DeliveryPipeline.startLive).
 */

/** How much of the header section the filter step gets. */
export const MAX_HEADER_BYTES = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;

export class HeaderSection {
  private parts: Buffer[] = [];
  private size = 0;
  /** The end (the blank line, or MAX_HEADER_BYTES) has been seen. */
  done = false;
  /** The header section ran past MAX_HEADER_BYTES: bytes() is only its start. */
  cut = false;

  /** Takes the next bytes of the message (ignored once done). True once the end has been seen. */
  push(normal: Buffer): boolean {
    if (this.done) return true;
    const piece = normal.subarray(0, MAX_HEADER_BYTES - this.size);
    const seen = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece], this.size + piece.length);
    // A message may start with the blank line (no header fields at all).
    const end = seen[0] === CR && seen[1] === LF ? -2 : seen.indexOf('\r\n\r\n');
    if (end !== -1) {
      this.parts = [seen.subarray(0, end + 2)];
      this.size = end + 2;
      this.done = true;
    } else {
      this.parts = [seen];
      this.size = seen.length;
      if (this.size >= MAX_HEADER_BYTES) this.done = this.cut = true;
    }
    return this.done;
  }

  /** The header section seen so far (all of it once done and not cut). */
  bytes(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
  }

  /** Octets of the header section kept (bytes().length). */
  get length(): number {
    return this.size;
  }

  /** bytes() is the whole header section, for a message of `messageSize` octets so far. */
  complete(messageSize: number): boolean {
    // A message of header fields only (no blank line) is all header once every byte is in.
    return this.done ? !this.cut : this.size === messageSize;
  }
}
