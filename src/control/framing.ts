/**
 * The control socket's wire format: newline-delimited JSON, where a frame may carry binary
 * attachments right after its line.
 *
 *   {"id":7,"op":"store","args":{...{"$bytes":0}...},"$att":[5120]}\n<5120 raw bytes>
 *
 * `$att` lists the byte lengths of the attachments that follow, in order; inside the JSON a Buffer
 * is `{"$bytes": index}` and a Date `{"$date": "ISO-8601"}`. So message bodies travel as bytes, not
 * base64, and everything else stays readable with `socat` and `jq` (docs/architecture.md).
 */

/** Longest JSON line accepted (a snapshot of a 100,000-message mailbox is about 3 MB). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** Largest attachment (a message body, a chunk of a backup). */
export const MAX_ATTACHMENT_BYTES = 512 * 1024 * 1024;

export type Frame = Record<string, unknown>;

/** Replaces Buffers and Dates by references, collecting the bytes in `attachments`. */
function encodeValue(value: unknown, attachments: Buffer[]): unknown {
  if (value instanceof Uint8Array) {
    attachments.push(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return { $bytes: attachments.length - 1 };
  }
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) return value.map((v) => encodeValue(v, attachments));
  if (value instanceof Map) throw new TypeError('a Map cannot cross the control socket; send an array of pairs');
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encodeValue(v, attachments);
    return out;
  }
  return value;
}

function decodeValue(value: unknown, attachments: Buffer[]): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeValue(v, attachments));
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o['$bytes'] === 'number') {
      const bytes = attachments[o['$bytes']];
      if (!bytes) throw new Error(`frame refers to attachment ${o['$bytes']}, which it does not carry`);
      return bytes;
    }
    if (keys.length === 1 && typeof o['$date'] === 'string') return new Date(o['$date']);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeValue(v, attachments);
    return out;
  }
  return value;
}

/** One frame as the buffers to write: the JSON line, then each attachment. */
export function encodeFrame(frame: Frame): Buffer[] {
  const attachments: Buffer[] = [];
  const json = encodeValue(frame, attachments) as Frame;
  if (attachments.length > 0) json['$att'] = attachments.map((a) => a.length);
  return [Buffer.from(`${JSON.stringify(json)}\n`, 'utf8'), ...attachments];
}

export class FrameError extends Error {}

/**
 * Splits a byte stream into frames. Feed it chunks; it returns the frames completed so far. Holds at
 * most one line plus the attachments of the frame being read.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The frame whose attachments are still arriving. */
  private pending: { json: Frame; sizes: number[]; total: number } | null = null;
  /** A line end may be buffered: without one, a long line's chunks are not joined again and again. */
  private maybeLine = false;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (chunk.includes(0x0a)) this.maybeLine = true;
    const frames: Frame[] = [];
    for (;;) {
      if (this.pending) {
        if (this.buffered < this.pending.total) break;
        const data = this.take(this.pending.total);
        const attachments: Buffer[] = [];
        let at = 0;
        for (const size of this.pending.sizes) {
          attachments.push(data.subarray(at, at + size));
          at += size;
        }
        frames.push(decodeValue(this.pending.json, attachments) as Frame);
        this.pending = null;
        continue;
      }
      const line = this.takeLine();
      if (line === null) break;
      if (line.length === 0) continue;
      let json: unknown;
      try {
        json = JSON.parse(line.toString('utf8'));
      } catch {
        throw new FrameError('a control frame is not valid JSON');
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FrameError('a control frame must be a JSON object');
      const frame = json as Frame;
      const sizes = frame['$att'];
      delete frame['$att'];
      if (sizes === undefined) {
        frames.push(decodeValue(frame, []) as Frame);
        continue;
      }
      if (!Array.isArray(sizes) || !sizes.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_ATTACHMENT_BYTES)) {
        throw new FrameError(`$att must list attachment sizes of at most ${MAX_ATTACHMENT_BYTES} bytes`);
      }
      this.pending = { json: frame, sizes: sizes as number[], total: (sizes as number[]).reduce((a, b) => a + b, 0) };
    }
    if (!this.pending && this.buffered > MAX_LINE_BYTES) throw new FrameError(`a control line is longer than ${MAX_LINE_BYTES} bytes`);
    return frames;
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private takeLine(): Buffer | null {
    if (!this.maybeLine) return null;
    const all = this.joined();
    const nl = all.indexOf(0x0a);
    if (nl < 0) {
      this.maybeLine = false;
      return null;
    }
    const line = all.subarray(0, nl);
    this.rest(all, nl + 1);
    return line;
  }

  private take(n: number): Buffer {
    const all = this.joined();
    const out = all.subarray(0, n);
    this.rest(all, n);
    return out;
  }

  private rest(all: Buffer, from: number): void {
    const rest = all.subarray(from);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
  }
}
