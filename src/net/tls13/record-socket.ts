/**
 * A TLS 1.3 connection after its handshake, with Postroom's own record layer (RFC 8446 §5) over the
 * plain TCP socket: what takeover.ts makes of a TLSSocket once OpenSSL has done the handshake. The
 * session reads and writes it as it would a TLSSocket; it holds no OpenSSL object, so a quiet
 * connection costs its TCP socket and two traffic secrets, and a hibernated one (parked-socket.ts)
 * a parked TCP handle and those secrets.
 *
 * What arrives: TLSCiphertext records, each opened with the client's keys at the next sequence
 * number. Application data goes to the reader; close_notify ends the stream (§6.1); a KeyUpdate
 * (§4.6.3) moves the client's keys on, and one with update_requested is answered with our own.
 * Anything else — a record that does not authenticate, one too long, an unexpected content type or
 * handshake message — is answered with a fatal alert (§6.2) and the connection closes; the error
 * reaches the session as a socket error, never as an exception out of here.
 *
 * What is written: split into records of at most 2^14 bytes (§5.1), sealed with our keys at the
 * next sequence number, in the order written. After 2^24 records under one key (§5.5 allows
 * AES-GCM 2^24.5) we send a KeyUpdate and go on with the next key.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { CONTENT_ALERT, CONTENT_APPLICATION, CONTENT_HANDSHAKE, MAX_CIPHERTEXT, MAX_PLAINTEXT, type Suite, TrafficKeys } from './keys.js';

/** Alert descriptions sent (§6). */
export const ALERT = {
  closeNotify: 0,
  unexpectedMessage: 10,
  badRecordMac: 20,
  recordOverflow: 22,
  decodeError: 50,
  illegalParameter: 47,
  userCanceled: 90,
} as const;

/** Handshake message types read after the handshake (§4). */
const HS_NEW_SESSION_TICKET = 4;
const HS_KEY_UPDATE = 24;

/** A KeyUpdate handshake message with update_not_requested (§4.6.3). */
export function keyUpdateMessage(): Buffer {
  return Buffer.of(HS_KEY_UPDATE, 0, 0, 1, 0);
}

/** How long a fatal alert may take to leave before the connection is dropped anyway. */
const ALERT_FLUSH_MS = 1000;

/** Records sealed under one key before we move to the next (§5.5). */
export const KEY_UPDATE_AFTER_RECORDS = 2 ** 24;

/** Both directions' state: enough to go on with the connection later (hibernation). */
export interface RecordState {
  readonly suite: Suite;
  /** The client's (what we open) and ours (what we seal). */
  readonly read: TrafficKeys;
  readonly write: TrafficKeys;
}

export class TlsError extends Error {
  constructor(
    message: string,
    /** The alert we sent, or the one the client sent (`received`). */
    readonly alert: number,
    readonly received = false,
  ) {
    super(message);
  }
}

const EMPTY = Buffer.alloc(0);

export class TlsRecordSocket extends Duplex {
  /** As a TLSSocket says: the session's `secure` checks look for it. */
  readonly encrypted = true;
  /** The client's keys (what we open) and ours (what we seal). */
  private inKeys: TrafficKeys;
  private outKeys: TrafficKeys;
  /** Bytes of a record not yet complete. */
  private partial: Buffer = EMPTY;
  /** A handshake message split over records (only KeyUpdate is expected, 5 bytes). */
  private handshake: Buffer = EMPTY;
  /** close_notify or a fatal alert was received or sent: nothing more is read. */
  private inputDone = false;
  private pendingWrite: (() => void) | null = null;
  /** Taken apart for hibernation: the TCP socket lives on without this object. */
  private detached = false;
  /** An alert (or close_notify) was written and the TCP write side ended. */
  private alertSent = false;

  constructor(
    /** The TCP connection; this object is its only reader and writer. */
    readonly raw: Socket,
    state: RecordState,
    /** Application data OpenSSL had already opened (delivered first). */
    plaintext: Buffer = EMPTY,
    /** Ciphertext read but not yet opened (the start of the next records). */
    ciphertext: Buffer = EMPTY,
  ) {
    super({ allowHalfOpen: false });
    this.inKeys = state.read;
    this.outKeys = state.write;
    raw.on('data', this.onCiphertext);
    raw.on('end', this.onRawEnd);
    raw.on('error', this.onRawError);
    raw.on('close', this.onRawClose);
    raw.on('drain', this.onRawDrain);
    if (plaintext.length) this.push(plaintext);
    if (ciphertext.length) this.onCiphertext(ciphertext);
  }

  get state(): RecordState {
    return { suite: this.inKeys.suite, read: this.inKeys, write: this.outKeys };
  }

  // --- what a TLSSocket offers that the servers use ----------------------------------------------

  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.raw.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.raw.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.raw.localAddress;
  }

  get localPort(): number | undefined {
    return this.raw.localPort;
  }

  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.raw.setKeepAlive(enable, initialDelay);
    return this;
  }

  getProtocol(): string {
    return 'TLSv1.3';
  }

  getCipher(): { name: string; standardName: string; version: string } {
    const name = this.inKeys.suite.name;
    return { name, standardName: name, version: 'TLSv1.3' };
  }

  // --- input ------------------------------------------------------------------------------------

  private readonly onCiphertext = (chunk: Buffer): void => {
    if (this.inputDone || this.destroyed) return;
    let at = 0;
    if (this.partial.length) {
      // The record the kept bytes begin is completed with only its own rest from this chunk; the
      // chunk is then read in place. (Joining the kept bytes and the whole chunk, as before, copied
      // every byte of a large literal once more into fresh memory — a 64 KiB read becoming an
      // 80 KiB Buffer — per read of a stream of records that straddle the reads; issue 23.)
      const done = this.completePartial(chunk);
      if (done < 0) return;
      at = done;
    }
    while (chunk.length - at >= 5) {
      const length = chunk.readUInt16BE(at + 3);
      // §5.2: a TLSCiphertext longer than 2^14 + 256 bytes is a record_overflow.
      if (length > MAX_CIPHERTEXT) {
        this.fail('record too long', ALERT.recordOverflow);
        return;
      }
      if (chunk.length - at < 5 + length) break;
      const header = chunk.subarray(at, at + 5);
      const body = chunk.subarray(at + 5, at + 5 + length);
      at += 5 + length;
      if (!this.onRecord(header, body)) return;
    }
    // Keep the tail only (a copy, so the whole chunk is not held for it).
    if (at < chunk.length) this.partial = Buffer.from(chunk.subarray(at));
  };

  /**
   * With bytes of an unfinished record kept: adds `chunk`'s bytes up to that record's end and opens
   * it. Returns where in `chunk` the next record starts, or -1 when the chunk is used up (kept, the
   * record still unfinished) or the connection is done.
   */
  private completePartial(chunk: Buffer): number {
    const kept = this.partial;
    const headerRest = Math.max(0, 5 - kept.length);
    if (chunk.length < headerRest) {
      this.partial = Buffer.concat([kept, chunk]);
      return -1;
    }
    const length = kept.length >= 5 ? kept.readUInt16BE(3) : Buffer.concat([kept, chunk.subarray(0, headerRest)]).readUInt16BE(3);
    if (length > MAX_CIPHERTEXT) {
      this.fail('record too long', ALERT.recordOverflow);
      return -1;
    }
    const rest = 5 + length - kept.length;
    if (chunk.length < rest) {
      this.partial = Buffer.concat([kept, chunk]);
      return -1;
    }
    const record = Buffer.concat([kept, chunk.subarray(0, rest)], 5 + length);
    this.partial = EMPTY;
    return this.onRecord(record.subarray(0, 5), record.subarray(5)) ? rest : -1;
  }

  /** One whole record; false when the connection is done (an alert, close_notify). */
  private onRecord(header: Buffer, body: Buffer): boolean {
    // Every record after the handshake is protected (§5): a plaintext one of any type is unexpected
    // (change_cipher_spec too, once the peer's Finished was read, §5).
    if (header[0] !== CONTENT_APPLICATION) return this.fail(`unexpected record type ${header[0]}`, ALERT.unexpectedMessage);
    const opened = this.inKeys.open(header, body);
    if (!opened) return this.fail('record did not authenticate', ALERT.badRecordMac);
    const { type, content } = opened;
    if (content.length > MAX_PLAINTEXT) return this.fail('plaintext too long', ALERT.recordOverflow);
    // §5.1: handshake messages may not be interleaved with other record types.
    if (type !== CONTENT_HANDSHAKE && this.handshake.length) return this.fail('handshake message interrupted', ALERT.unexpectedMessage);
    if (type === CONTENT_APPLICATION) {
      if (content.length && !this.push(content)) this.raw.pause();
      return true;
    }
    if (type === CONTENT_ALERT) return this.onAlert(content);
    if (type === CONTENT_HANDSHAKE) return this.onHandshake(content);
    // Type 0 (all padding, §5.4) or anything else.
    return this.fail(`unexpected content type ${type}`, ALERT.unexpectedMessage);
  }

  private onAlert(content: Buffer): boolean {
    // §5.1: alert messages are not fragmented; one record holds exactly one.
    if (content.length !== 2) return this.fail('malformed alert', ALERT.decodeError);
    const description = content[1]!;
    if (description === ALERT.closeNotify) {
      this.inputDone = true;
      this.partial = EMPTY;
      this.push(null);
      return false;
    }
    // user_canceled is followed by close_notify (§6.1); any other alert ends the connection.
    if (description === ALERT.userCanceled) return true;
    this.inputDone = true;
    this.destroy(new TlsError(`TLS alert ${description} from the client`, description, true));
    return false;
  }

  private onHandshake(content: Buffer): boolean {
    const data = this.handshake.length ? Buffer.concat([this.handshake, content]) : content;
    let at = 0;
    while (data.length - at >= 4) {
      const type = data[at]!;
      const length = data.readUIntBE(at + 1, 3);
      // Only KeyUpdate may come from a client after the handshake (we ask for no post-handshake
      // authentication); NewSessionTicket is the server's to send (§4.6.1).
      if (type !== HS_KEY_UPDATE) return this.fail(type === HS_NEW_SESSION_TICKET ? 'NewSessionTicket from a client' : `unexpected handshake message ${type}`, ALERT.unexpectedMessage);
      if (length !== 1) return this.fail('malformed KeyUpdate', ALERT.decodeError);
      if (data.length - at < 5) break;
      const requested = data[at + 4]!;
      at += 5;
      // §4.6.3: update_not_requested(0) or update_requested(1); anything else is illegal_parameter.
      if (requested > 1) return this.fail('KeyUpdate with an unknown request', ALERT.illegalParameter);
      // §5.1: a handshake message must not span a key change: the KeyUpdate ends its record.
      if (at !== data.length) return this.fail('data after KeyUpdate in its record', ALERT.unexpectedMessage);
      this.inKeys = this.inKeys.next();
      if (requested === 1) this.updateWriteKeys();
    }
    this.handshake = at === data.length ? EMPTY : Buffer.from(data.subarray(at));
    return true;
  }

  /** Sends a KeyUpdate (update_not_requested) under the current key and moves to the next (§4.6.3). */
  private updateWriteKeys(): void {
    const record = this.keyUpdateRecord();
    if (!this.raw.destroyed) this.raw.write(record);
  }

  /** A KeyUpdate (update_not_requested) sealed under the current key; later records use the next. */
  private keyUpdateRecord(): Buffer {
    const record = this.outKeys.seal(CONTENT_HANDSHAKE, keyUpdateMessage());
    this.outKeys = this.outKeys.next();
    return record;
  }

  /** A fatal error of the client's: the alert (§6.2), then the connection closes. Always false. */
  private fail(message: string, alert: number): false {
    this.inputDone = true;
    this.partial = EMPTY;
    this.sendAlert(alert);
    this.destroy(new TlsError(message, alert));
    return false;
  }

  private sendAlert(description: number): void {
    if (this.raw.destroyed || !this.raw.writable) return;
    this.alertSent = true;
    // A fatal alert is level 2; close_notify is sent as a warning (1) by custom (OpenSSL does).
    this.raw.end(this.outKeys.seal(CONTENT_ALERT, Buffer.of(description === ALERT.closeNotify ? 1 : 2, description)));
  }

  override _read(): void {
    if (!this.detached && !this.raw.destroyed) this.raw.resume();
  }

  private readonly onRawEnd = (): void => {
    // The client closed without close_notify (a truncation, §6.1): the reader sees the end all the
    // same — IMAP's own framing tells a cut-off command from a whole one.
    if (!this.inputDone) {
      this.inputDone = true;
      this.push(null);
    }
  };

  private readonly onRawError = (err: Error): void => {
    this.destroy(err);
  };

  private readonly onRawClose = (): void => {
    this.destroy();
  };

  // --- output -----------------------------------------------------------------------------------

  private readonly onRawDrain = (): void => {
    const done = this.pendingWrite;
    this.pendingWrite = null;
    done?.();
  };

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.raw.destroyed) return callback(new Error('socket closed'));
    let ok: boolean;
    if (chunk.length <= MAX_PLAINTEXT && this.outKeys.seq < KEY_UPDATE_AFTER_RECORDS) {
      ok = this.raw.write(this.outKeys.seal(CONTENT_APPLICATION, chunk));
    } else {
      // In order: a KeyUpdate goes out between the records sealed before it and those after.
      const records: Buffer[] = [];
      for (let at = 0; at < chunk.length; at += MAX_PLAINTEXT) {
        if (this.outKeys.seq >= KEY_UPDATE_AFTER_RECORDS) records.push(this.keyUpdateRecord());
        records.push(this.outKeys.seal(CONTENT_APPLICATION, chunk, at, Math.min(chunk.length, at + MAX_PLAINTEXT)));
      }
      ok = this.raw.write(records.length === 1 ? records[0]! : Buffer.concat(records));
    }
    // Done once the socket has taken the records without going over its high-water mark, so the
    // session's backpressure (writableNeedDrain) is the socket's.
    if (ok) callback();
    else this.pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    // close_notify, then the TCP FIN (§6.1).
    this.sendAlert(ALERT.closeNotify);
    if (!this.raw.destroyed) this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (!this.detached) {
      this.unlisten();
      // A fatal alert just written goes out before the socket closes (bounded by a timer).
      if (this.alertSent && this.raw.writableLength > 0 && !this.raw.destroyed) {
        const raw = this.raw;
        raw.once('finish', () => raw.destroy());
        raw.on('error', () => undefined);
        setTimeout(() => raw.destroy(), ALERT_FLUSH_MS).unref();
      } else {
        this.raw.destroy();
      }
    }
    this.pendingWrite?.();
    this.pendingWrite = null;
    callback(error);
  }

  private unlisten(): void {
    this.raw.off('data', this.onCiphertext);
    this.raw.off('end', this.onRawEnd);
    this.raw.off('error', this.onRawError);
    this.raw.off('close', this.onRawClose);
    this.raw.off('drain', this.onRawDrain);
  }

  // --- hibernation ------------------------------------------------------------------------------

  /** Why this connection cannot be reduced to its TCP socket and keys now, or null when it can. */
  parkRefusal(): string | null {
    if (this.destroyed || this.inputDone || !this.writable) return 'socket is closing';
    if (this.readableLength > 0 || this.writableLength > 0 || this.pendingWrite) return 'data buffered in the socket';
    if (this.partial.length || this.handshake.length) return 'part of a record buffered';
    if (this.isPaused()) return 'socket is paused';
    return null;
  }

  /**
   * Takes the connection apart: the TCP socket is handed back (without this object's listeners)
   * with the state to go on with it; this object is finished and holds nothing. Call only when
   * parkRefusal() is null.
   */
  detachForParking(): { raw: Socket; state: RecordState } {
    this.unlisten();
    this.detached = true;
    this.removeAllListeners();
    const state = this.state;
    this.destroy();
    return { raw: this.raw, state };
  }
}
