/**
 * TLS plumbing shared by IMAP and POP3: secure contexts from PEM or file paths, and the in-place
 * upgrade used by STARTTLS (RFC 3501 §6.2.1) and STLS (RFC 2595 §4).
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import { handshakeThenTakeOver } from './tls13/takeover.js';
import type { TlsRecordSocket } from './tls13/record-socket.js';

/**
 * Who protects the records of a TLS 1.3 connection after the handshake: Postroom's own record
 * layer (src/net/tls13/, the default: the connection then holds no OpenSSL state, about 50 KB less
 * per connection) or OpenSSL's TLSSocket, as for TLS 1.2 connections.
 */
export type TlsRecords = 'postroom' | 'openssl';

export interface TlsOptions {
  /** PEM text, or a path to a PEM file. */
  key: string | Buffer;
  cert: string | Buffer;
  /** Lowest protocol version (default TLSv1.2). */
  minVersion?: tls.SecureVersion;
  /** OpenSSL cipher list (default: Node's). */
  ciphers?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** Certificates of the CAs that issued the chain (PEM text or file paths), as Node's `ca`. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /**
   * Per-hostname certificates: called with the name the client asked for (SNI), answer with a
   * SecureContext (tls.createSecureContext) or undefined for the default — Node's SNICallback.
   * Used for implicit TLS and for STARTTLS/STLS alike.
   */
  SNICallback?: (servername: string, callback: (err: Error | null, context?: tls.SecureContext) => void) => void;
  /** TLS 1.3 records after the handshake (default 'postroom'; see TlsRecords). */
  records?: TlsRecords;
}

/** The SNI callback of each context made here, so upgradeToTls() can use it. */
const sniOf = new WeakMap<tls.SecureContext, NonNullable<TlsOptions['SNICallback']>>();

function pem(value: string | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return value.includes('-----BEGIN') ? Buffer.from(value) : readFileSync(value);
}

export function createSecureContext(options: TlsOptions): tls.SecureContext {
  const context = tls.createSecureContext({
    key: pem(options.key),
    cert: pem(options.cert),
    minVersion: options.minVersion ?? 'TLSv1.2',
    ...(options.ciphers ? { ciphers: options.ciphers } : {}),
    ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
    ...(options.ca !== undefined ? { ca: caOf(options.ca) } : {}),
  });
  if (options.SNICallback) sniOf.set(context, options.SNICallback);
  return context;
}

/** `ca` as Node takes it: PEM buffers, each read from a file when given as a path. */
export function caOf(ca: NonNullable<TlsOptions['ca']>): Buffer[] {
  return (Array.isArray(ca) ? ca : [ca as string | Buffer]).map(pem);
}

/**
 * Wraps an accepted plain socket in TLS as the server side and resolves once the handshake is done.
 * The caller must have stopped reading from `socket` and discarded anything it buffered: bytes the
 * client pipelined after STARTTLS must never be taken as commands (CVE-2011-0411 class of flaw).
 * With `records` 'postroom' a TLS 1.3 connection comes back as a TlsRecordSocket
 * (src/net/tls13/takeover.ts); anything else as a TLSSocket.
 */
export function upgradeToTls(socket: Socket, context: tls.SecureContext, timeoutMs?: number): Promise<tls.TLSSocket>;
export function upgradeToTls(socket: Socket, context: tls.SecureContext, timeoutMs: number, records: TlsRecords): Promise<tls.TLSSocket | TlsRecordSocket>;
export function upgradeToTls(socket: Socket, context: tls.SecureContext, timeoutMs = 30_000, records: TlsRecords = 'openssl'): Promise<tls.TLSSocket | TlsRecordSocket> {
  const sni = sniOf.get(context);
  if (records === 'postroom') return handshakeThenTakeOver(socket, { tlsOptions: { secureContext: context, ...(sni ? { SNICallback: sni } : {}) }, timeoutMs });
  return new Promise((resolve, reject) => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ...(sni ? { SNICallback: sni } : {}) });
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
