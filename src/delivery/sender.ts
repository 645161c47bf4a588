/**
 * How Sieve's redirect and vacation send mail: through a relay the administrator names —
 * `smtp://host:port` (nodemailer's SMTP transport, usually the local MTA) or
 * `sendmail:/path/to/sendmail` (a sendmail-compatible command). Postroom never delivers to the
 * Internet itself: the MTA does queueing, retries, DKIM and bounces.
 */
import { spawn } from 'node:child_process';
import nodemailer from 'nodemailer';

export interface OutgoingEnvelope {
  /** MAIL FROM; "" is the null sender `<>` (vacation, RFC 5230 §5). */
  from: string;
  to: string[];
}

export interface MailSender {
  /** Resolves once the relay accepted the message (it is then the relay's to deliver). */
  send(envelope: OutgoingEnvelope, raw: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** A sender from a `sieveRelay` setting; throws a clear error for a malformed one. */
export function createMailSender(relay: string, options: { timeoutMs?: number } = {}): MailSender {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (relay.startsWith('sendmail:')) return sendmailSender(relay.slice('sendmail:'.length) || '/usr/sbin/sendmail', timeoutMs);
  if (!/^smtps?:\/\//.test(relay)) throw new Error(`sieveRelay must be smtp://host:port, smtps://host:port or sendmail:/path, not ${JSON.stringify(relay)}`);
  const url = new URL(relay);
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
    secure: url.protocol === 'smtps:',
    // A local relay on loopback usually has no certificate worth checking; STARTTLS when offered.
    tls: { rejectUnauthorized: false },
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(envelope, raw) {
      // An explicit envelope: nodemailer then takes MAIL FROM and RCPT TO from it, not from the headers.
      await transport.sendMail({ envelope: { from: envelope.from, to: envelope.to }, raw });
    },
    async close() {
      transport.close();
    },
  };
}

function sendmailSender(path: string, timeoutMs: number): MailSender {
  return {
    send(envelope, raw) {
      return new Promise((resolve, reject) => {
        // -i: a lone dot is text; -f "": the null sender.
        const child = spawn(path, ['-i', '-f', envelope.from, '--', ...envelope.to], { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
        child.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`${path} exited with ${code}: ${stderr.trim()}`));
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(raw);
      });
    },
    async close() {},
  };
}
