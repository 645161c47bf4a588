/**
 * RFC 4978 COMPRESS=DEFLATE as a transport: a Duplex stream over the connection's socket (plain or
 * TLS — RFC 4978 §3 orders compression inside TLS, which is what wrapping the TLSSocket gives) that
 * inflates what the client sends and deflates what the server writes. The session above reads and
 * writes it exactly as it would the socket, so the framer's limits, the output queue's backpressure
 * and the line deadlines apply unchanged — only to the bytes as they are after inflating.
 *
 * Bounds. Inflating is where a hostile client gains leverage (a few KB of input can expand to GBs),
 * so nothing is inflated faster than the session reads it: the inflater emits at most
 * INFLATE_CHUNK_BYTES at a time and Node's zlib stops inflating while its readable buffer is full;
 * when the session pauses this stream (its read-ahead limit) the inflater is paused, its input
 * queue fills, and the socket is paused. A bomb therefore meets the framer's line and literal
 * limits after at most the session's read-ahead, and is answered with BYE like any overlong line.
 *
 * Writes: each write (the output queue writes batches of up to 64 KB, or pieces of a streamed
 * literal) is deflated and flushed with Z_SYNC_FLUSH, so the client can decode each response as it
 * arrives; the write completes only once the socket has room again, so `writableNeedDrain` of this
 * stream tells the output queue what the socket's would.
 */
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import type { Socket } from 'node:net';
import type { TlsRecordSocket } from './tls13/record-socket.js';

/** Most inflated bytes handed on at a time (and the inflater's buffer): zlib's own default. */
export const INFLATE_CHUNK_BYTES = 16 * 1024;

export interface DeflateOptions {
  /** zlib level for what the server sends, 1 (fastest) to 9; Dovecot's default is 6. */
  level: number;
  /**
   * An inflater kept from before (a hibernated session woken up): the client's compressor may
   * refer back to anything it sent, so the inflater's window must survive. Its 'data', 'error'
   * and 'drain' listeners are this transport's.
   */
  inflater?: zlib.InflateRaw;
}

export class DeflateTransport extends Duplex {
  private readonly inflater: zlib.InflateRaw;
  private deflater: zlib.DeflateRaw;
  /** Input is read and dropped, not inflated (the session refuses further input). */
  private discarding = false;
  /** Taken apart for hibernation: the socket and the inflater belong to the parked session. */
  private detached = false;

  constructor(
    /** The connection's socket, plain or TLS (a TLSSocket, or Postroom's TLS 1.3 record layer). */
    readonly raw: Socket | TlsRecordSocket,
    private readonly options: DeflateOptions,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: INFLATE_CHUNK_BYTES });
    this.inflater = options.inflater ?? zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES });
    this.deflater = newDeflater(options.level);
    this.deflater.on('data', this.onDeflated);
    this.deflater.on('error', (err) => this.destroy(err));
    this.listenInflater();
    // A kept inflater may have been paused by its previous transport.
    if (options.inflater) this.inflater.resume();
    raw.on('data', this.onRaw);
    raw.on('end', this.onRawEnd);
    raw.on('error', this.onRawError);
    raw.on('close', this.onRawClose);
    raw.on('drain', this.onRawDrain);
  }

  /** Hands compressed bytes that arrived before the transport existed (read past COMPRESS's line). */
  feed(chunks: readonly Buffer[]): void {
    for (const c of chunks) this.onRaw(c);
  }

  // --- input: socket → inflater → session --------------------------------------------------------

  private listenInflater(): void {
    this.inflater.on('data', this.onInflated);
    this.inflater.on('end', this.onInflatedEnd);
    this.inflater.on('error', this.onInflateError);
    this.inflater.on('drain', this.onInflaterDrain);
  }

  private unlistenInflater(): void {
    this.inflater.off('data', this.onInflated);
    this.inflater.off('end', this.onInflatedEnd);
    this.inflater.off('error', this.onInflateError);
    this.inflater.off('drain', this.onInflaterDrain);
  }

  private readonly onRaw = (chunk: Buffer): void => {
    if (this.discarding) return;
    // The inflater's input queue is full: stop reading the socket until it drains.
    if (!this.inflater.write(chunk)) this.raw.pause();
  };

  private readonly onInflaterDrain = (): void => {
    if (!this.destroyed && !this.discarding) this.raw.resume();
  };

  private readonly onInflated = (chunk: Buffer): void => {
    // The session is not reading (paused above its read-ahead): stop inflating until _read.
    if (!this.push(chunk)) this.inflater.pause();
  };

  override _read(): void {
    this.inflater.resume();
  }

  private readonly onRawEnd = (): void => {
    this.inflater.end();
  };

  private readonly onInflatedEnd = (): void => {
    this.push(null);
  };

  private readonly onInflateError = (err: Error): void => {
    // Not a deflate stream: the client broke the protocol. The session sees an error and the end.
    this.destroy(new Error(`COMPRESS: invalid deflate data from the client (${err.message})`));
  };

  private readonly onRawError = (err: Error): void => {
    this.destroy(err);
  };

  private readonly onRawClose = (): void => {
    this.destroy();
  };

  /**
   * From now on input is read and dropped without inflating: a session that has said BYE still
   * reads what the client sends (closing with unread input would reset the connection), but
   * spends no CPU expanding it.
   */
  discardInput(): void {
    this.discarding = true;
    this.raw.resume();
  }

  // --- output: session → deflater → socket --------------------------------------------------------

  private readonly onDeflated = (chunk: Buffer): void => {
    if (!this.raw.destroyed) this.raw.write(chunk);
  };

  private pendingWrite: (() => void) | null = null;

  private readonly onRawDrain = (): void => {
    const done = this.pendingWrite;
    this.pendingWrite = null;
    done?.();
  };

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.deflater.write(chunk);
    this.deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      // The write is done once the socket has taken the compressed bytes without going over its
      // high-water mark: backpressure reaches the output queue through this stream.
      if (this.raw.writableNeedDrain && !this.raw.destroyed) this.pendingWrite = () => callback();
      else callback();
    });
  }

  /**
   * The end of the session: the deflater ends its stream (a final block), and the socket ends once
   * all of it has been handed on — zlib may emit a write's output after the write's callback.
   */
  override _final(callback: (error?: Error | null) => void): void {
    this.deflater.once('end', () => {
      this.raw.end();
      callback();
    });
    this.deflater.end();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (this.detached) return callback(error);
    this.detachRaw();
    this.unlistenInflater();
    this.inflater.close();
    this.deflater.close();
    this.raw.destroy();
    this.pendingWrite?.();
    this.pendingWrite = null;
    callback(error);
  }

  private detachRaw(): void {
    this.raw.off('data', this.onRaw);
    this.raw.off('end', this.onRawEnd);
    this.raw.off('error', this.onRawError);
    this.raw.off('close', this.onRawClose);
    this.raw.off('drain', this.onRawDrain);
  }

  // --- hibernation --------------------------------------------------------------------------------

  /**
   * Why this transport cannot be taken apart for hibernation now, or null when it can: everything
   * written must have been deflated, flushed and handed to the socket, and everything read
   * inflated and passed on.
   */
  parkRefusal(): string | null {
    if (this.destroyed || this.discarding) return 'transport is closing';
    if (this.writableLength > 0 || this.pendingWrite || this.deflater.writableLength > 0 || this.deflater.readableLength > 0) return 'compressed output pending';
    if (this.readableLength > 0 || this.inflater.writableLength > 0 || this.inflater.readableLength > 0) return 'compressed input pending';
    return null;
  }

  /**
   * Takes the transport apart for hibernation: the socket is given back bare (the caller parks it)
   * and the inflater is returned to be kept while parked. The deflater is dropped: its output ended
   * with a sync flush (byte-aligned, no final block), so a new compressor's blocks continue the
   * stream the client decodes — they refer back only to data of their own. That lets go of the
   * larger part of a compressed session's memory (zlib's deflate state is about 256 KB at the
   * default memLevel; the inflate state about 40 KB).
   */
  detachForParking(): zlib.InflateRaw {
    this.detachRaw();
    this.unlistenInflater();
    this.deflater.removeAllListeners();
    this.deflater.close();
    // This Duplex is finished without touching the socket or the inflater, which live on.
    this.discarding = true;
    this.detached = true;
    this.removeAllListeners();
    return this.inflater;
  }
}

function newDeflater(level: number): zlib.DeflateRaw {
  return zlib.createDeflateRaw({ level });
}
