/**
 * The LMTP state machine is smtp-server's (`lmtp: true`): LHLO, MAIL, RCPT, DATA, RSET, NOOP,
 * QUIT, pipelining, dot-unstuffing, SIZE, one reply per recipient after DATA. Postroom adds only
 * the delivery logic (server.ts) and this: its replies carry their own enhanced status code at the
 * start of the text (replies.ts), which is sent as it is instead of the code smtp-server would
 * derive from the reply number; and its DATA parser scans with indexOf instead of byte by byte
 * (data-feed.ts).
 */
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { installFastDataFeed } from './data-feed.js';
import { ENHANCED_TEXT } from './replies.js';
import { lazyRequire } from '../util/lazy-require.js';

/** smtp-server loads when the first LMTP server is made, not at `import 'postroom'`. */
export const smtpServer = lazyRequire<typeof import('smtp-server')>('smtp-server');
const smtpConnection = lazyRequire<typeof import('smtp-server/lib/smtp-connection.js')>('smtp-server/lib/smtp-connection.js');

let connectionClass: typeof SMTPConnection | undefined;

/** SMTPConnection with Postroom's replies: the class is made on first use, once. */
export function lmtpConnectionClass(): typeof SMTPConnection {
  connectionClass ??= class LmtpConnection extends smtpConnection().SMTPConnection {
    override send(code: number, data?: string | string[] | null, context?: string | false): void {
      if (typeof data === 'string' && ENHANCED_TEXT.test(data)) return super.send(code, data, false);
      return super.send(code, data, context);
    }

    override _createParser(): SMTPStream {
      const parser = super._createParser();
      installFastDataFeed(parser);
      return parser;
    }
  };
  return connectionClass;
}
