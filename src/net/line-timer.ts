/**
 * The deadline for input that has started to arrive: once the first byte of a command line is in,
 * the rest must follow within a time, or the client is cut off. The idle timers cannot catch a
 * "slowloris" client that trickles one byte every few seconds, since each byte looks like activity;
 * this timer is not reset by bytes, only by a completed read.
 *
 * A literal may also have a gap deadline: the longest silence allowed between its bytes. Its whole
 * deadline must leave room for a large literal at a slow rate (an hour for 60 MB at 16 KiB/s), but a
 * client that announces one and then goes silent should not hold the connection that long.
 */
export class LineTimer {
  private timer: NodeJS.Timeout | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private gapMs = 0;
  private lastActivity = 0;

  constructor(private readonly onExpired: () => void) {}

  get running(): boolean {
    return this.timer !== null;
  }

  /** Starts the clock unless it is already running (more bytes of the same line do not restart it). */
  start(ms: number): void {
    if (this.timer === null) this.arm(ms);
  }

  /**
   * Sets a new deadline `ms` from now, whether or not one was running (a literal was accepted), and
   * optionally a gap deadline: input must keep arriving, no silence longer than `gapMs`, until stop().
   */
  restart(ms: number, gapMs?: number): void {
    this.stop();
    this.arm(ms);
    if (gapMs !== undefined && gapMs < ms) {
      this.gapMs = gapMs;
      this.lastActivity = Date.now();
      this.armGap(gapMs);
    }
  }

  /** Input arrived: the gap deadline, if any, counts from now. Cheap: no timer is touched. */
  activity(): void {
    if (this.gapTimer !== null) this.lastActivity = Date.now();
  }

  /** The awaited input is complete. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.gapTimer !== null) clearTimeout(this.gapTimer);
    this.timer = null;
    this.gapTimer = null;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.stop();
      this.onExpired();
    }, ms);
    this.timer.unref();
  }

  /** Fires after `ms`; if input came meanwhile, waits again for what is left of the gap since then. */
  private armGap(ms: number): void {
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      const silent = Date.now() - this.lastActivity;
      if (silent < this.gapMs) {
        this.armGap(this.gapMs - silent);
        return;
      }
      this.stop();
      this.onExpired();
    }, ms);
    this.gapTimer.unref();
  }
}
