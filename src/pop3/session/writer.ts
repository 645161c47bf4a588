/**
 * Writes replies to the socket with backpressure: a write resolves once the socket has taken the
 * bytes without growing past its high-water mark, so a slow reader pauses the producer (a RETR of a
 * big message reads the store only as fast as the client reads the socket).
 */
import type { Socket } from 'node:net';

export class ConnectionGoneError extends Error {
  constructor() {
    super('Connection closed');
    this.name = 'ConnectionGoneError';
  }
}

export class SocketWriter {
  constructor(
    private socket: Socket,
    /** Called whenever output made progress, so the idle timer knows the client is reading. */
    private readonly onProgress: () => void,
    /** Told how many bytes each write hands to the socket (metrics). */
    private readonly onWritten: (bytes: number) => void = () => undefined,
  ) {}

  /** After STLS the same writer goes on writing to the TLS socket. */
  replaceSocket(socket: Socket): void {
    this.socket = socket;
  }

  async write(data: Buffer | string): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) throw new ConnectionGoneError();
    this.onWritten(typeof data === 'string' ? Buffer.byteLength(data) : data.length);
    if (socket.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
      };
      const onDrain = (): void => {
        done();
        this.onProgress();
        resolve();
      };
      const onClose = (): void => {
        done();
        reject(new ConnectionGoneError());
      };
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }
}
