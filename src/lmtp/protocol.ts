/**
 * The LMTP state machine is smtp-server's (`lmtp: true`): LHLO, MAIL, RCPT, DATA, RSET, NOOP,
 * QUIT, pipelining, dot-unstuffing, SIZE, one reply per recipient after DATA. Postroom adds only
 * the delivery logic (server.ts) and this: its replies carry their own enhanced status code at the
 * start of the text (replies.ts), which is sent as it is instead of the code smtp-server would
 * derive from the reply number.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { ENHANCED_TEXT } from './replies.js';

export class LmtpConnection extends SMTPConnection {
  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (typeof data === 'string' && ENHANCED_TEXT.test(data)) return super.send(code, data, false);
    return super.send(code, data, context);
  }
}
