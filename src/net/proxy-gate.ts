/**
 * The PROXY protocol at the door of a TCP listener: a connection from a trusted proxy must start
 * with a header (which then says who the client is); a connection from anywhere else must not
 * (else anyone could claim any address and walk past the per-address limits and the login guard).
 *
 * The gate runs before anything else sees the socket, so on implicit-TLS ports before the TLS
 * handshake (the header travels in the clear, ahead of the ClientHello). Bytes after the header
 * are put back into the socket for the protocol. A header that is too long, malformed, or too
 * slow to arrive ends the connection, with a log line that says why.
 */
import type net from 'node:net';
import type { Logger } from '../util/logger.js';
import { AddressList, unmapIPv4 } from './address-list.js';
import { mayBeProxyHeader, parseProxyHeader, PROXY_V1_MAX_BYTES, type ProxyHeader } from './proxy-protocol.js';

export interface ProxyProtocolOptions {
  /**
   * Addresses or CIDR ranges of the proxies (HAProxy) that send a PROXY protocol header, v1 or v2.
   * Connections from them must start with one; connections from elsewhere must not. Empty or
   * absent: the PROXY protocol is off.
   */
  trustedProxies?: readonly string[];
  /** Longest header accepted, TLVs included (default 4096 bytes; a v1 line is at most 107). */
  maxHeaderBytes?: number;
  /** Seconds a trusted proxy has to send the whole header (default 10). */
  headerTimeoutSeconds?: number;
}

export const PROXY_DEFAULTS = { maxHeaderBytes: 4096, headerTimeoutSeconds: 10 } as const;

/** Who is at the other end: the client itself, or the client a trusted proxy speaks for. */
export interface ClientPeer {
  address: string;
  port: number;
  /** The proxy's own address, when the connection came through one. */
  via?: string;
}

export type ProxyRefusal = 'untrusted-header' | 'bad-header' | 'header-timeout';

export interface GateHandlers {
  /**
   * The connection may proceed, with any bytes after the header put back into `socket`. On a
   * clear-text port the gate resumes the socket right after this returns, so attach the 'data'
   * listener here; on an implicit-TLS port it stays paused for the TLS wrap to read.
   */
  pass(socket: net.Socket, peer: ClientPeer): void;
  /** The connection was refused and is being closed (for the metrics). */
  refused?(why: ProxyRefusal): void;
  /**
   * What to send before closing a refused connection, in the protocol's words (e.g. "* BYE …").
   * Null: close without a word (implicit-TLS ports, where clear text would not be understood).
   */
  refusal: ((reason: string) => string) | null;
}

export class ProxyGate {
  private readonly trusted: AddressList;
  private readonly maxHeaderBytes: number;
  private readonly timeoutMs: number;

  /** Null when `options` names no trusted proxy: then listeners work as without a proxy. */
  static create(options: ProxyProtocolOptions | undefined, logger?: Logger): ProxyGate | null {
    if (!options?.trustedProxies || options.trustedProxies.length === 0) return null;
    return new ProxyGate(options, logger);
  }

  constructor(
    options: ProxyProtocolOptions,
    private readonly logger?: Logger,
  ) {
    this.trusted = new AddressList(options.trustedProxies ?? [], 'trustedProxies');
    const max = options.maxHeaderBytes ?? PROXY_DEFAULTS.maxHeaderBytes;
    if (!Number.isInteger(max) || max < PROXY_V1_MAX_BYTES) throw new RangeError(`proxyHeaderMaxBytes must be a whole number of at least ${PROXY_V1_MAX_BYTES}`);
    const seconds = options.headerTimeoutSeconds ?? PROXY_DEFAULTS.headerTimeoutSeconds;
    if (!(seconds > 0)) throw new RangeError('proxyHeaderTimeoutSeconds must be more than 0');
    this.maxHeaderBytes = max;
    this.timeoutMs = seconds * 1000;
  }

  /** Takes a freshly accepted TCP socket through the gate; calls `handlers.pass` or closes it. */
  admit(socket: net.Socket, handlers: GateHandlers): void {
    socket.on('error', () => undefined);
    const own: ClientPeer = { address: socket.remoteAddress ?? 'unknown', port: socket.remotePort ?? 0 };
    if (this.trusted.includes(socket.remoteAddress)) this.readHeader(socket, own, handlers);
    // On an implicit-TLS port a header from elsewhere fails the TLS handshake by itself.
    else if (handlers.refusal === null) handlers.pass(socket, own);
    else this.watchForHeader(socket, own, handlers);
  }

  private readHeader(socket: net.Socket, own: ClientPeer, handlers: GateHandlers): void {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.pause();
    };
    const refuse = (why: ProxyRefusal, reason: string): void => {
      finish();
      this.logger?.warn({ remote: own.address, reason }, 'PROXY protocol: connection refused');
      handlers.refused?.(why);
      this.close(socket, handlers, reason);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered, this.maxHeaderBytes);
      if (parsed.status === 'incomplete') return;
      if (parsed.status === 'invalid') return refuse('bad-header', `${parsed.reason} (from trusted proxy ${own.address})`);
      finish();
      const rest = buffered.subarray(parsed.header.length);
      if (rest.length > 0) socket.unshift(rest);
      const peer = this.peerFrom(parsed.header, own);
      this.logger?.debug({ remote: peer.address, via: own.address, version: parsed.header.version, command: parsed.header.command }, 'PROXY protocol header');
      handlers.pass(socket, peer);
      if (handlers.refusal !== null) socket.resume();
    };
    const onClose = (): void => clearTimeout(timer);
    const timer = setTimeout(() => refuse('header-timeout', `no complete PROXY protocol header from trusted proxy ${own.address} within ${this.timeoutMs / 1000} s`), this.timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', onClose);
  }

  /**
   * An untrusted peer must not send a header. The protocol speaks first on most ports, so the
   * connection is handed over at once; its first bytes are looked at as they arrive, and a header
   * there ends the connection (before the protocol answers it: the refusal is written and the
   * socket destroyed within the same event).
   */
  private watchForHeader(socket: net.Socket, own: ClientPeer, handlers: GateHandlers): void {
    let seen: Buffer = Buffer.alloc(0);
    const look = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      if (!mayBeProxyHeader(seen)) return void socket.removeListener('data', look);
      if (!looksLikeHeader(seen)) {
        // Not sure yet ("PROX…" could be an IMAP tag): decide once a line's worth is in.
        if (seen.length >= 16 || seen.includes(0x0a)) socket.removeListener('data', look);
        return;
      }
      socket.removeListener('data', look);
      const reason = `a PROXY protocol header from ${own.address}, which is not in trustedProxies`;
      this.logger?.warn({ remote: own.address }, 'PROXY protocol: header from an untrusted address; connection refused');
      handlers.refused?.('untrusted-header');
      this.close(socket, handlers, reason, true);
    };
    socket.prependListener('data', look);
    handlers.pass(socket, own);
    socket.resume();
  }

  private close(socket: net.Socket, handlers: GateHandlers, reason: string, now = false): void {
    const text = handlers.refusal?.(reason);
    if (now) {
      // The protocol's own 'data' listener runs next with the same bytes: destroy first, so it
      // answers nothing (a write to a destroyed socket goes nowhere).
      if (text) socket.write(text);
      socket.destroy();
      return;
    }
    if (text) socket.end(text);
    else socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  private peerFrom(header: ProxyHeader, own: ClientPeer): ClientPeer {
    if (header.command === 'proxy' && header.source) return { address: unmapIPv4(header.source.address), port: header.source.port, via: own.address };
    return { ...own, via: own.address };
  }
}

/** The v2 signature, or a v1 line's unmistakable start ("PROXY TCP4 ", "PROXY TCP6 ", "PROXY UNKNOWN"). */
function looksLikeHeader(bytes: Buffer): boolean {
  if (bytes.length >= 12 && bytes[0] === 0x0d) return true;
  return /^PROXY (TCP[46] |UNKNOWN)/.test(bytes.toString('latin1', 0, Math.min(bytes.length, 16)));
}
