/**
 * A plain TCP connection held by its libuv handle alone, without the net.Socket around it.
 *
 * A net.Socket with its stream states costs about 1.5 KB of memory; the handle underneath about
 * 0.5 KB. A server holding tens of thousands of idle connections (IMAP IDLE) parks them here and
 * turns a handle back into a net.Socket when the client sends something or the server has
 * something to say. This reaches into Node's stream internals (`socket._handle`, the handle's
 * `onread` and `reading`, the `owner_symbol` back-reference) as node:cluster does when it moves
 * handles between processes; parkRefusal() checks that each piece looks as expected, so a
 * Node.js release that changes them turns parking off instead of breaking connections.
 * test/unit/parked-socket.test.ts pins the behaviour down.
 *
 * Nothing here allocates per connection beyond the handle: one shared read callback finds the
 * owner on the handle itself, in the slot where Node keeps the socket.
 *
 * A TLS 1.3 connection whose records Postroom protects itself (src/net/tls13/, the default) is
 * parked like a plain one: its TCP handle, with a ParkedRecords — the traffic secrets and sequence
 * numbers — as the handle's owner; writeParked() seals what it writes with them.
 *
 * A TLSSocket (TLS 1.2, or `records: 'openssl'`) cannot be reduced to its handle: its TLS state
 * lives in the OpenSSL object behind it, and bytes on the wire are records only it can decrypt.
 * Such a socket is parked as it is — paused, with only a wake-up listener on it — so what is let
 * go is the session's JavaScript state (the connection, its parser, buffers, view and timers). Its
 * OpenSSL state stays: about 50 KB per connection (Node sets no SSL_MODE_RELEASE_BUFFERS and offers
 * no kTLS; bench/RESULTS.md "Idle IDLE over TLS, hibernated").
 */
import net from 'node:net';
import tls from 'node:tls';
import { ParkedRecords } from './tls13/parked-records.js';
import { TlsRecordSocket } from './tls13/record-socket.js';

/** A socket the servers may park: TCP, a TLSSocket, or a TLS 1.3 connection with our record layer. */
export type ParkableSocket = net.Socket | TlsRecordSocket;

/** Told when its parked connection comes back as a socket. */
export interface ParkedSocketOwner {
  /**
   * Attach the socket's listeners before returning: bytes or an end of stream that woke the
   * connection are delivered to the socket right after this call.
   */
  revived(socket: ParkableSocket): void;
}

/** The parts of Node's TCP handle (src/tcp_wrap.cc, src/stream_base.cc) this file relies on. */
interface TcpHandle {
  readStart(): number;
  readStop(): number;
  /** An accessor in Node: it accepts functions only. */
  onread: (...args: unknown[]) => unknown;
  reading?: boolean;
  /** Writes a string with a request object; 0 or a negative libuv error. */
  writeLatin1String?: (req: WriteRequest, text: string) => number;
  [key: symbol]: unknown;
}

/**
 * Node's write request for stream handles (src/stream_wrap.cc), the one net.Socket writes with.
 * Reached through `process.binding`, which Node keeps for such modules (DEP0111 is documentation-only);
 * without it writeParked() wraps the handle in a net.Socket for the write instead.
 */
interface WriteRequest {
  handle: unknown;
  async: boolean;
  oncomplete: (status: number) => void;
}
const WriteWrap: (new () => WriteRequest) | null = (() => {
  try {
    const binding = (process as unknown as { binding(name: string): { WriteWrap?: new () => WriteRequest } }).binding('stream_wrap');
    return typeof binding.WriteWrap === 'function' ? binding.WriteWrap : null;
  } catch {
    return null;
  }
})();

/** A parked connection, for wakeParked(). */
export interface ParkedHandle {
  readonly parked: true;
}

/** Why a socket cannot be parked now, or null when it can. */
export function parkRefusal(socket: ParkableSocket): string | null {
  if (socket instanceof TlsRecordSocket) return socket.parkRefusal() ?? parkRefusal(socket.raw);
  if (socket instanceof tls.TLSSocket) return tlsParkRefusal(socket);
  if (socket.destroyed || !socket.readable || !socket.writable) return 'socket is closing';
  if (socket.readableLength > 0 || socket.writableLength > 0) return 'data buffered in the socket';
  if (socket.isPaused()) return 'socket is paused';
  const handle = (socket as unknown as { _handle?: Partial<TcpHandle> | null })._handle;
  if (!handle || typeof handle.readStop !== 'function' || typeof handle.readStart !== 'function') return 'no TCP handle';
  if (typeof handle.onread !== 'function' || !nodeOwnerSymbol(handle as TcpHandle)) return 'unknown handle layout';
  return null;
}

function nodeOwnerSymbol(handle: TcpHandle): symbol | undefined {
  return Object.getOwnPropertySymbols(handle).find((s) => s.description === 'owner_symbol');
}

/**
 * Detaches the handle from `socket` and holds it for `owner`. The socket object is destroyed (its
 * server stops counting it) without closing the connection, and every listener on it is removed:
 * the caller must not rely on its 'close'. Returns null when parkRefusal() says no.
 */
export function parkSocket(socket: ParkableSocket, owner: ParkedSocketOwner): ParkedHandle | null {
  if (parkRefusal(socket) !== null) return null;
  if (socket instanceof TlsRecordSocket) {
    const { raw, state } = socket.detachForParking();
    return parkSocket(raw, new ParkedRecords(state, owner));
  }
  if (socket instanceof tls.TLSSocket) return parkTls(socket, owner);
  const holder = socket as unknown as { _handle: TcpHandle | null };
  const handle = holder._handle!;

  socket.removeAllListeners();
  holder._handle = null;
  // Node's own back-reference slot now points to the parking owner: no new property on the
  // handle, and the socket object is free to go.
  handle[nodeOwnerSymbol(handle)!] = owner;
  // With no handle, destroy() only ends the JavaScript side: it emits 'close' and tells the server
  // the connection is gone (its count and close() would otherwise wait for it forever).
  socket.destroy();

  handle.onread = onParkedRead;
  if (handle.reading !== true) handle.readStart();
  return handle as unknown as ParkedHandle;
}

/** Gives a parked connection back to its owner as a net.Socket (news, shutdown, a timeout). */
export function wakeParked(parked: ParkedHandle): void {
  if (parked instanceof ParkedTls) return parked.wake();
  const handle = parked as unknown as TcpHandle;
  if (handle.onread !== onParkedRead) return;
  const owner = parkedOwner(handle);
  owner.revived(revive(handle));
}

/**
 * Writes `text` (latin1) to a parked connection without waking its owner — a hibernated IDLE
 * session told of a new message (hibernation.ts). A plain connection is written through its handle
 * (or, without Node's write request, wrapped in a net.Socket for the write and parked again, with
 * the same handle and owner, once the bytes are out); a TLS socket is written as it is. `wakeAfter` is asked when the write is done: true (news that needs the whole
 * session came meanwhile) hands the socket to the owner instead, as does anything the client sent
 * or a connection that ended in the meantime. False when the connection is not parked here now.
 */
export function writeParked(parked: ParkedHandle, text: string, wakeAfter: () => boolean): boolean {
  if (parked instanceof ParkedTls) return parked.write(text, wakeAfter);
  const handle = parked as unknown as TcpHandle;
  if (handle.onread !== onParkedRead) return false;
  const owner = parkedOwner(handle);
  // A TLS 1.3 connection's text goes as records sealed with its kept keys.
  if (owner instanceof ParkedRecords) text = owner.seal(text).toString('latin1');
  // First the handle's own write, as net.Socket does it (a WriteWrap request): a few bytes to an
  // idle connection go out at once, with no socket object made and let go per connection — half
  // the CPU of the way below (bench/RESULTS.md, "100,000 idle connections").
  if (WriteWrap && typeof handle.writeLatin1String === 'function') {
    const req = new WriteWrap();
    req.handle = handle;
    req.async = false;
    req.oncomplete = (status: number) => {
      if (status < 0 || wakeAfter()) wakeParked(parked);
    };
    const err = handle.writeLatin1String(req, text);
    if (err === 0) {
      if (!req.async) req.oncomplete(0);
      return true;
    }
  }
  const socket = revive(handle);
  // Bytes or an end of stream arriving during the write stay in the socket's buffer (it has no
  // 'data' listener yet): the owner gets them when it takes the socket.
  socket.write(text, 'latin1', () => {
    if (wakeAfter() || socket.destroyed || socket.readableLength > 0 || !socket.readable || parkSocket(socket, owner) === null) owner.revived(socket);
  });
  socket.once('error', () => undefined); // reported to the owner as a destroyed socket
  return true;
}

/**
 * Any read event — bytes, end of stream, an error — wakes the connection. The event's details
 * live in a buffer Node shares between all streams, valid only during this call, so the revived
 * socket's own read callback must see them now, not later.
 */
function onParkedRead(this: TcpHandle, ...args: unknown[]): unknown {
  const owner = parkedOwner(this);
  owner.revived(revive(this));
  return this.onread.apply(this, args);
}

function parkedOwner(handle: TcpHandle): ParkedSocketOwner | ParkedRecords {
  return handle[nodeOwnerSymbol(handle)!] as ParkedSocketOwner | ParkedRecords;
}

/** Ends the parking (the handle's read callback is no longer ours) and wraps the handle in a socket. */
function revive(handle: TcpHandle): net.Socket {
  handle.readStop();
  // net.Socket starts reading only when it believes the handle is not reading already.
  handle.reading = false;
  return new net.Socket({ handle, readable: true, writable: true } as net.SocketConstructorOpts);
}

// --- TLS ------------------------------------------------------------------------------------------

function tlsParkRefusal(socket: tls.TLSSocket): string | null {
  if (socket.destroyed || !socket.readable || !socket.writable) return 'socket is closing';
  if (socket.readableLength > 0 || socket.writableLength > 0) return 'data buffered in the socket';
  if (socket.isPaused()) return 'socket is paused';
  // The caller has taken its own 'data' listener off; another one would still be fed while parked.
  if (socket.listenerCount('data') > 0 || socket.listenerCount('readable') > 0) return 'socket still has readers';
  return null;
}

/**
 * A parked TLS socket. Its only listeners while parked are this object's two, shared by no closure:
 * 'readable' (bytes arrived, or the end of the stream) and 'close'. The socket is paused, so what
 * arrives waits in its buffer for the revived owner.
 */
class ParkedTls implements ParkedHandle {
  readonly parked = true as const;

  constructor(
    private socket: tls.TLSSocket | null,
    private readonly owner: ParkedSocketOwner,
  ) {}

  listen(socket: tls.TLSSocket): void {
    socket.on('readable', this.wake);
    socket.on('close', this.wake);
  }

  /** writeParked() on a TLS socket: written as it is; it stays parked unless `wakeAfter` or its input says otherwise. */
  write(text: string, wakeAfter: () => boolean): boolean {
    const socket = this.socket;
    if (!socket || socket.destroyed) return false;
    socket.write(text, 'latin1', () => {
      if (this.socket && (wakeAfter() || socket.readableLength > 0)) this.wake();
    });
    return true;
  }

  /** Hands the socket back to its owner (once); the owner's listeners then get what was buffered. */
  readonly wake = (): void => {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.off('readable', this.wake);
    socket.off('close', this.wake);
    this.owner.revived(socket);
    // With a 'readable' listener gone the stream stays paused: flowing again delivers the buffered
    // bytes (and the end of the stream) to the owner's 'data' and 'end' listeners.
    if (!socket.destroyed) socket.resume();
  };
}

function parkTls(socket: tls.TLSSocket, owner: ParkedSocketOwner): ParkedHandle {
  socket.pause();
  const parked = new ParkedTls(socket, owner);
  parked.listen(socket);
  return parked;
}
