/**
 * The deadline for input that has started to arrive: once the first byte of a command line is in,
 * the rest must follow within a time, or the client is cut off. The idle timers cannot catch a
 * "slowloris" client that trickles one byte every few seconds, since each byte looks like activity;
 * this timer is not reset by bytes, only by a completed read.
 */
export class LineTimer {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onExpired: () => void) {}

  get running(): boolean {
    return this.timer !== null;
  }

  /** Starts the clock unless it is already running (more bytes of the same line do not restart it). */
  start(ms: number): void {
    if (this.timer === null) this.arm(ms);
  }

  /** Sets a new deadline `ms` from now, whether or not one was running (a literal was accepted). */
  restart(ms: number): void {
    this.stop();
    this.arm(ms);
  }

  /** The awaited input is complete. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onExpired();
    }, ms);
    this.timer.unref();
  }
}
