/**
 * OpenSSL does the handshake; Postroom's record layer (record-socket.ts) takes over after it. A
 * TLSSocket with its OpenSSL object costs about 50 KB per connection even when quiet — Node offers
 * neither kTLS nor SSL_MODE_RELEASE_BUFFERS — which is most of a hibernated IDLE session's memory.
 *
 * How the record state is known exactly: the TLSSocket does its handshake over a HandshakeTap, a
 * Duplex in front of the TCP socket through which every byte passes each way. The tap splits the
 * bytes into records, keeps the protected ones, and hands OpenSSL only whole records. The traffic
 * secrets come from the TLSSocket's 'keylog' event. Once the handshake is done and OpenSSL has
 * written what follows it (its NewSessionTickets), every protected record seen is opened with the
 * keys it must have been sealed with — the handshake keys up to the Finished, the application keys
 * after, each at the next sequence number (RFC 8446 §5.3) — so the next sequence number each way is
 * the number of application records that passed, verified record by record, not inferred. The
 * client's application data OpenSSL opened meanwhile must be exactly what the TLSSocket has
 * buffered (nothing left inside OpenSSL). Then the TLSSocket is destroyed (the tap throws away
 * anything it would still write: no record of OpenSSL's reaches the wire after the switch, so no
 * nonce is used twice) and a TlsRecordSocket goes on with the TCP socket.
 *
 * On any doubt — TLS 1.2, another suite, a record that opens under neither key, a post-handshake
 * message other than NewSessionTicket, a client KeyUpdate or alert before the switch, a partial
 * record either way, more than MAX_HELD_BYTES of records — the TLSSocket stays, over the tap
 * (which then only passes bytes on), and the connection works as before.
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import { CONTENT_APPLICATION, CONTENT_HANDSHAKE, MAX_CIPHERTEXT, SUITES, TrafficKeys, type Suite } from './keys.js';
import { TlsRecordSocket } from './record-socket.js';

/**
 * Handshakes after which Postroom's record layer took over, and those after which OpenSSL kept the
 * connection (TLS 1.2, another suite, or a check that failed): for tests and diagnostics.
 */
export const takeoverCounts = { postroom: 0, openssl: 0 };

/** Protected records held per direction until the switch; more means OpenSSL keeps the connection. */
const MAX_HELD_BYTES = 256 * 1024;

const EMPTY = Buffer.alloc(0);
/** The lowest record content type (RFC 8446 §5.1: change_cipher_spec 20 … application_data 23). */
const CONTENT_CHANGE_CIPHER_SPEC = 20;

/** Splits a byte stream into TLS records (5-byte header, body); holds the incomplete tail. */
class RecordSplitter {
  tail: Buffer = EMPTY;
  held: Buffer[] = [];
  heldBytes = 0;
  /** A record header that cannot be TLS (a content type outside 20–23, too long): the stream is not followed any more. */
  broken = false;

  /** Adds `chunk`; returns the bytes of the whole records it completed (possibly none). */
  add(chunk: Buffer): Buffer {
    const data = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    let at = 0;
    while (data.length - at >= 5) {
      const length = data.readUInt16BE(at + 3);
      // Not TLS (a plaintext client on the TLS port): OpenSSL gets the bytes and refuses them at once.
      if (length > MAX_CIPHERTEXT || data[at]! < CONTENT_CHANGE_CIPHER_SPEC || data[at]! > CONTENT_APPLICATION) {
        this.broken = true;
        this.tail = EMPTY;
        return data;
      }
      if (data.length - at < 5 + length) break;
      if (data[at] === CONTENT_APPLICATION) {
        this.heldBytes += 5 + length;
        if (this.heldBytes > MAX_HELD_BYTES) this.broken = true;
        else this.held.push(Buffer.from(data.subarray(at, at + 5 + length)));
      }
      at += 5 + length;
    }
    this.tail = at === data.length ? EMPTY : Buffer.from(data.subarray(at));
    return at === data.length ? data : data.subarray(0, at);
  }
}

/**
 * The TLSSocket's transport during the handshake: what the client sends (`raw` → OpenSSL, whole
 * records only) and what OpenSSL writes (→ `raw`), both seen record by record.
 */
class HandshakeTap extends Duplex {
  fromClient = new RecordSplitter();
  readonly fromServer = new RecordSplitter();
  /** Bytes only passed on (OpenSSL keeps the connection). */
  passThrough = false;
  /** Handed over to a TlsRecordSocket: nothing more goes anywhere. */
  switched = false;

  constructor(readonly raw: Socket) {
    super({ allowHalfOpen: true });
    raw.on('data', this.onRaw);
    raw.on('end', this.onRawEnd);
    raw.on('error', this.onRawError);
    raw.on('close', this.onRawClose);
    raw.on('drain', this.onRawDrain);
  }

  private readonly onRaw = (chunk: Buffer): void => {
    if (this.passThrough) {
      if (!this.push(chunk)) this.raw.pause();
      return;
    }
    const whole = this.fromClient.add(chunk);
    if (this.fromClient.broken) this.passOn();
    if (whole.length && !this.push(whole)) this.raw.pause();
  };

  /** From now on OpenSSL keeps the connection: no more records are followed or held. */
  passOn(): void {
    this.passThrough = true;
    const tail = this.fromClient.tail;
    this.fromClient.tail = EMPTY;
    this.fromClient.held = [];
    this.fromServer.held = [];
    if (tail.length) this.push(tail);
  }

  override _read(): void {
    if (!this.switched) this.raw.resume();
  }

  private readonly onRawEnd = (): void => {
    if (!this.switched) this.push(null);
  };

  private readonly onRawError = (err: Error): void => {
    if (!this.switched) this.destroy(err);
  };

  private readonly onRawClose = (): void => {
    if (!this.switched) this.destroy();
  };

  private pendingWrite: (() => void) | null = null;

  private readonly onRawDrain = (): void => {
    const done = this.pendingWrite;
    this.pendingWrite = null;
    done?.();
  };

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // After the switch OpenSSL's records never reach the wire: their sequence numbers are ours now.
    if (this.switched) return callback();
    if (!this.passThrough) {
      this.fromServer.add(chunk);
      if (this.fromServer.broken) this.passOn();
    }
    if (this.raw.write(chunk)) callback();
    else this.pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.switched) this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (!this.switched) this.raw.destroy();
    this.pendingWrite?.();
    this.pendingWrite = null;
    callback(error);
  }

  /** Lets go of the TCP socket (the record socket takes it); returns the client bytes not yet given to OpenSSL. */
  detach(): Buffer {
    this.switched = true;
    this.raw.off('data', this.onRaw);
    this.raw.off('end', this.onRawEnd);
    this.raw.off('error', this.onRawError);
    this.raw.off('close', this.onRawClose);
    this.raw.off('drain', this.onRawDrain);
    this.pendingWrite?.();
    this.pendingWrite = null;
    const tail = this.fromClient.tail;
    this.fromClient = new RecordSplitter();
    return tail;
  }
}

/** The secrets OpenSSL logged (NSS key log format: label, client random, secret in hex). */
class Secrets {
  readonly byLabel = new Map<string, Buffer>();

  readonly onKeylog = (line: Buffer): void => {
    const [label, , secret] = line.toString('latin1').trim().split(' ');
    if (!label || !secret) return;
    // Its own memory, not a slice of Node's shared 8 KB pool: an awake session's keys keep two of these.
    const bytes = Buffer.alloc(secret.length >> 1);
    bytes.write(secret, 'hex');
    this.byLabel.set(label, bytes);
  };

  get(label: string): Buffer | undefined {
    return this.byLabel.get(label);
  }
}

export interface TlsUpgradeOptions {
  /** Server-side TLSSocket options beyond the context (SNICallback). */
  readonly tlsOptions: tls.TLSSocketOptions;
  readonly timeoutMs: number;
}

/**
 * The server side of a TLS handshake over `raw`, then Postroom's record layer when the connection
 * is TLS 1.3 with a known suite and its state is verified; else the TLSSocket (over the tap).
 */
export function handshakeThenTakeOver(raw: Socket, options: TlsUpgradeOptions): Promise<tls.TLSSocket | TlsRecordSocket> {
  return new Promise((resolve, reject) => {
    const tap = new HandshakeTap(raw);
    const secrets = new Secrets();
    const secure = new tls.TLSSocket(tap as unknown as Socket, { ...options.tlsOptions, isServer: true });
    secure.on('keylog', secrets.onKeylog);
    // The caller may have paused the socket (STARTTLS): the tap reads it now.
    raw.resume();
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new Error('TLS handshake timed out'));
    }, options.timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    secure.once('error', onError);
    secure.once('secure', () => {
      clearTimeout(timer);
      // OpenSSL writes its NewSessionTickets right after the handshake: let them pass first.
      setImmediate(() => {
        secure.removeListener('error', onError);
        secure.off('keylog', secrets.onKeylog);
        if (secure.destroyed) return reject(new Error('TLS connection closed after the handshake'));
        const taken = takeOver(secure, tap, secrets);
        if (!taken) tap.passOn();
        takeoverCounts[taken ? 'postroom' : 'openssl']++;
        resolve(taken ?? secure);
      });
    });
  });
}

/** The record socket when every check passes, else null (nothing changed). */
function takeOver(secure: tls.TLSSocket, tap: HandshakeTap, secrets: Secrets): TlsRecordSocket | null {
  if (tap.passThrough || tap.fromServer.tail.length || secure.writableLength > 0 || !secure.readable) return null;
  if (secure.getProtocol() !== 'TLSv1.3') return null;
  const suite = SUITES.get(secure.getCipher()?.standardName ?? '');
  if (!suite) return null;
  const client = verify(suite, tap.fromClient.held, secrets.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET'), secrets.get('CLIENT_TRAFFIC_SECRET_0'), CONTENT_APPLICATION);
  const server = verify(suite, tap.fromServer.held, secrets.get('SERVER_HANDSHAKE_TRAFFIC_SECRET'), secrets.get('SERVER_TRAFFIC_SECRET_0'), CONTENT_HANDSHAKE);
  if (!client || !server) return null;
  // What OpenSSL opened of the client's application data is all in the TLSSocket's buffer.
  if (secure.readableLength !== client.applicationBytes) return null;
  const plaintext = client.applicationBytes ? (secure.read() as Buffer | null) : null;
  if ((plaintext?.length ?? 0) !== client.applicationBytes) return null;
  const raw = tap.raw;
  const ciphertext = tap.detach();
  // Node's own listeners stay: its 'close' handler is what frees the OpenSSL object (destroySSL).
  secure.on('error', () => undefined);
  secure.destroy();
  return new TlsRecordSocket(raw, { suite, read: client.keys, write: server.keys }, plaintext ?? EMPTY, ciphertext);
}

/**
 * Opens every protected record of one direction: first under the handshake secret (at least the
 * Finished), then under the application secret, each at the next sequence number. Application
 * records may carry only `allowed` content (the client's application data; the server's
 * NewSessionTickets). Returns the application keys with the sequence number of the next record,
 * or null when any record does not fit.
 */
function verify(
  suite: Suite,
  records: readonly Buffer[],
  handshakeSecret: Buffer | undefined,
  applicationSecret: Buffer | undefined,
  allowed: number,
): { keys: TrafficKeys; applicationBytes: number } | null {
  if (!handshakeSecret || !applicationSecret) return null;
  const handshake = new TrafficKeys(suite, handshakeSecret);
  const keys = new TrafficKeys(suite, applicationSecret);
  let applicationBytes = 0;
  for (const record of records) {
    const header = record.subarray(0, 5);
    const body = record.subarray(5);
    if (keys.seq === 0) {
      const opened = handshake.open(header, body);
      if (opened) {
        if (opened.type !== CONTENT_HANDSHAKE) return null;
        continue;
      }
    }
    const opened = keys.open(header, body);
    if (!opened || opened.type !== allowed) return null;
    if (allowed === CONTENT_HANDSHAKE && !onlyNewSessionTickets(opened.content)) return null;
    if (allowed === CONTENT_APPLICATION) applicationBytes += opened.content.length;
  }
  if (handshake.seq === 0) return null;
  return { keys, applicationBytes };
}

/** True when `content` is whole NewSessionTicket messages (type 4) and nothing else. */
function onlyNewSessionTickets(content: Buffer): boolean {
  let at = 0;
  while (at < content.length) {
    if (content.length - at < 4 || content[at] !== 4) return false;
    at += 4 + content.readUIntBE(at + 1, 3);
  }
  return at === content.length;
}
