/**
 * INPROGRESS (RFC 9585): while a long command runs, `* OK [INPROGRESS ("tag" count total)] text`
 * every `inProgressSeconds` — the first one interval after the command started, then one per
 * interval, never more (a timer, not the command's loop, decides when). The command reports how
 * far it got (`ctx.progress(count, total)`); until it does, or for work it cannot count (a store
 * search that reports no progress), count and total are NIL, which §4 allows: the line is then a
 * keepalive that still names the command.
 *
 * Output is a queue of whole responses (output.ts), so a line pushed while the command awaits
 * lands between two responses, never inside one (not inside a streamed literal).
 */
import type { ImapValue, ResponseCode } from '../wire/types.js';

export interface ProgressSink {
  /** Writes `* OK [code] text` and starts sending it now (the command is still running). */
  send(code: ResponseCode, text: string): void;
}

export class CommandProgress {
  private count: number | null = null;
  private total: number | null = null;
  private readonly timer: NodeJS.Timeout;
  /** Lines sent (for the logs and tests). */
  sent = 0;

  constructor(
    private readonly tag: string,
    intervalMs: number,
    private readonly sink: ProgressSink,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The command has done `count` of `total` items (messages). */
  report(count: number, total: number): void {
    if (!(total > 0)) return;
    this.total = total;
    // The command is not done while it runs: as Dovecot does, the count stays below the total.
    this.count = Math.max(0, Math.min(count, total - 1));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const { count, total } = this;
    const args: ImapValue[] = [[progressTag(this.tag), count, total]];
    const text = total === null ? 'Still working' : `Processed ${count} of ${total}`;
    this.sent++;
    this.sink.send({ name: 'INPROGRESS', args }, text);
  }
}

/**
 * The tag as a quoted string, or NIL when it cannot be one inside a response code: "]" ends the
 * code (resp-text-code excludes it; Dovecot sends NIL then too), and a tag is otherwise ASCII
 * without quoted-specials (RFC 9051 tag = 1*<any ASTRING-CHAR except "+">).
 */
function progressTag(tag: string): string | null {
  return /^[\x21-\x7e]+$/.test(tag) && !/[\]"\\]/.test(tag) ? tag : null;
}
