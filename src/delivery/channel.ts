/**
 * A message's bytes handed from the connection that receives them to the store that writes them,
 * while they arrive: the producer `push`es chunks and waits while a few are queued (backpressure
 * reaches the socket), the store reads them as an async iterable. `fail` makes the reader throw —
 * a store then keeps nothing of the message (the MailStore contract for streamed content) — and
 * a reader that stops early never leaves the producer waiting: later pushes are dropped.
 */

/** What the reader throws when the message is withdrawn: the client went, or it is refused for everyone. */
export class MessageWithdrawn extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'MessageWithdrawn';
  }
}

/** Chunks queued before push() waits; the store gathers up to 1 MiB per write anyway. */
const QUEUED_MAX = 8;

export class ChunkChannel implements AsyncIterable<Buffer> {
  private queue: Buffer[] = [];
  private ended = false;
  private failure: { error: unknown } | null = null;
  /** The reader has stopped (finished, threw, or gave up): nothing more is queued. */
  private gone = false;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;

  /** Queues `chunk`; resolves once there is room for the next one (or the reader is gone). */
  async push(chunk: Buffer): Promise<void> {
    if (this.gone || this.ended || this.failure) return;
    this.queue.push(chunk);
    this.wake();
    while (this.queue.length >= QUEUED_MAX && !this.gone) await new Promise<void>((resolve) => (this.wakeWriter = resolve));
  }

  /** No more chunks: the reader finishes once it has taken the queued ones. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The reader throws `error` at its next read (queued chunks are dropped). First call wins. */
  fail(error: unknown): void {
    if (this.ended || this.failure) return;
    this.failure = { error };
    this.queue = [];
    this.wake();
  }

  /** The reader will not read again (the store failed): pushes return at once from now on. */
  abandon(): void {
    this.gone = true;
    this.queue = [];
    this.wake();
  }

  private wake(): void {
    const reader = this.wakeReader;
    const writer = this.wakeWriter;
    this.wakeReader = null;
    this.wakeWriter = null;
    reader?.();
    writer?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (this.failure) throw this.failure.error;
        const chunk = this.queue.shift();
        if (chunk) {
          if (this.queue.length < QUEUED_MAX) this.wake();
          yield chunk;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    } finally {
      this.abandon();
    }
  }
}
