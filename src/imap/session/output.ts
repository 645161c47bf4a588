/**
 * The connection's write side: encoded responses go into one ordered queue that is pumped into the
 * socket with backpressure. Streamed literals (large bodies) are read chunk by chunk only as fast as
 * the client takes them, so a slow reader pauses production instead of growing memory.
 */
import type { Duplex } from 'node:stream';
import type { EncodedChunk } from '../wire/encoder.js';

/** Small responses are coalesced into writes of about this size (one syscall, not one per line). */
const WRITE_BATCH = 64 * 1024;

export class OutputQueue {
  // A FIFO as array + head index: Array.shift() is linear on large arrays, and a FETCH of 100,000
  // messages queues 100,000 responses.
  private queue: EncodedChunk[] = [];
  private head = 0;
  private queuedBytes = 0;
  private pumping = false;
  private pumpScheduled = false;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  /** Bytes written to the socket in total (for logs and metrics). */
  written = 0;

  constructor(
    private socket: Duplex,
    private readonly highWaterMark: number,
    /** Told when output cannot go on (the socket failed, or a streamed literal's source did). */
    private readonly onFailure?: (error: unknown) => void,
    /**
     * Bytes per second at which a streamed literal of `size` octets is to be sent, or null for as
     * fast as the client reads. Only postroom/testing sets one (its slow-literal fault).
     */
    private readonly literalPace?: (size: number) => number | null,
  ) {}

  /** Swaps the underlying socket (after STARTTLS). Only called while the queue is empty. */
  setSocket(socket: Duplex): void {
    this.socket = socket;
  }

  /** Queues chunks; `now` starts writing at once (a continuation the client is waiting for). */
  push(chunks: EncodedChunk[], now = false): void {
    if (this.closed) return;
    for (const chunk of chunks) {
      this.queue.push(chunk);
      // A streamed literal counts too: its source may already hold the bytes (a store pins a
      // message's body when FETCH asks for the stream), so backpressure must see them.
      this.queuedBytes += Buffer.isBuffer(chunk) ? chunk.length : chunk.size;
    }
    // Start writing at the end of this turn of the event loop, not now: a command's untagged data
    // and its tagged OK are usually pushed a few microtasks apart, and one write(2) for both
    // halves the syscalls — on loopback each one carries the receiver's TCP work too.
    if (now && !this.pumping) {
      void this.pump();
      return;
    }
    if (!this.pumping && !this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        if (!this.pumping) void this.pump();
      });
    }
  }

  /**
   * Starts writing now rather than at the end of this turn of the event loop: the client is waiting
   * for what is queued and nothing else will join it (the connection is about to wait for input).
   * On a busy server the end of the turn can be many milliseconds away.
   */
  flush(): void {
    if (!this.pumping && !this.closed && this.pending() > 0) void this.pump();
  }

  /** Resolves when everything queued so far has been handed to the socket and the socket drained enough. */
  async drain(): Promise<void> {
    if (this.queuedBytes < this.highWaterMark && !this.socketNeedsDrain()) return;
    await this.idle();
  }

  /** Resolves when the queue is empty and the socket's buffer has been flushed to the kernel. */
  idle(): Promise<void> {
    if (!this.pumping && this.pending() === 0 && !this.socketNeedsDrain()) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (!this.pumping) void this.pump();
    });
  }

  /** Nothing queued, nothing being written, nothing waiting in the socket. */
  get empty(): boolean {
    return !this.pumping && !this.pumpScheduled && this.pending() === 0 && !this.socketNeedsDrain();
  }

  private pending(): number {
    return this.queue.length - this.head;
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.wakeIdle();
  }

  /** Drops consumed entries once they are the larger part of the array. */
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private socketNeedsDrain(): boolean {
    const s = this.socket as Duplex & { writableNeedDrain?: boolean };
    return !this.closed && !s.destroyed && s.writableNeedDrain === true;
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async write(buf: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return;
    this.written += buf.length;
    if (!this.socket.write(buf)) await this.waitDrain();
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.pending() > 0 && !this.closed) {
        const chunk = this.queue[this.head]!;
        if (Buffer.isBuffer(chunk)) {
          const parts: Buffer[] = [];
          let size = 0;
          while (this.head < this.queue.length && size < WRITE_BATCH) {
            const next = this.queue[this.head]!;
            if (!Buffer.isBuffer(next)) break;
            parts.push(next);
            size += next.length;
            this.head++;
          }
          this.queuedBytes -= size;
          this.compact();
          await this.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
        } else {
          this.head++;
          this.compact();
          let sent = 0;
          const pace = this.literalPace?.(chunk.size) ?? null;
          const began = Date.now();
          for await (const part of chunk.stream()) {
            if (this.closed) break;
            const room = chunk.size - sent;
            const piece = part.length > room ? part.subarray(0, room) : part;
            if (pace === null) {
              sent += piece.length;
              await this.write(piece);
            } else {
              // About twenty writes a second, each once the rate allows it.
              const step = Math.max(1, Math.floor(pace / 20));
              for (let at = 0; at < piece.length && !this.closed; at += step) {
                const slice = piece.subarray(at, at + step);
                sent += slice.length;
                await this.write(slice);
                const due = began + (sent / pace) * 1000 - Date.now();
                if (due > 0) await new Promise((r) => setTimeout(r, due));
              }
            }
            if (sent >= chunk.size) break;
          }
          // A literal promised `size` octets; if the source ran short the protocol stream would be
          // corrupt, so pad with spaces — never leave the client waiting mid-literal.
          if (sent < chunk.size && !this.closed) await this.write(Buffer.alloc(chunk.size - sent, 0x20));
          this.queuedBytes -= chunk.size;
        }
      }
      if (this.socketNeedsDrain()) await this.waitDrain();
    } catch (error) {
      // The socket failed mid-write, or a literal's source failed after its size was announced
      // (a message expunged and its body deleted before the queue reached it). The client's
      // parser expects the announced octets: the only clean answer left is to drop the connection,
      // never to leave the client waiting for bytes that will not come.
      this.close();
      this.socket.destroy();
      this.onFailure?.(error);
    } finally {
      this.pumping = false;
      if (this.pending() === 0) this.wakeIdle();
      else if (!this.closed) void this.pump();
    }
  }
}
