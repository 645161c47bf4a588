/**
 * TLS plumbing shared by IMAP and POP3: secure contexts from PEM or file paths, and the in-place
 * upgrade used by STARTTLS (RFC 3501 §6.2.1) and STLS (RFC 2595 §4).
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Socket } from 'node:net';

export interface TlsOptions {
  /** PEM text, or a path to a PEM file. */
  key: string | Buffer;
  cert: string | Buffer;
  /** Lowest protocol version (default TLSv1.2). */
  minVersion?: tls.SecureVersion;
  /** OpenSSL cipher list (default: Node's). */
  ciphers?: string;
}

function pem(value: string | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return value.includes('-----BEGIN') ? Buffer.from(value) : readFileSync(value);
}

export function createSecureContext(options: TlsOptions): tls.SecureContext {
  return tls.createSecureContext({
    key: pem(options.key),
    cert: pem(options.cert),
    minVersion: options.minVersion ?? 'TLSv1.2',
    ...(options.ciphers ? { ciphers: options.ciphers } : {}),
  });
}

/**
 * Wraps an accepted plain socket in TLS as the server side and resolves once the handshake is done.
 * The caller must have stopped reading from `socket` and discarded anything it buffered: bytes the
 * client pipelined after STARTTLS must never be taken as commands (CVE-2011-0411 class of flaw).
 */
export function upgradeToTls(socket: Socket, context: tls.SecureContext, timeoutMs = 30_000): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new Error('TLS handshake timed out'));
    }, timeoutMs);
    secure.once('secure', () => {
      clearTimeout(timer);
      secure.removeListener('error', onError);
      resolve(secure);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    secure.once('error', onError);
  });
}
