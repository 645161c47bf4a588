/**
 * A hibernated TLS 1.3 connection's record state (src/net/parked-socket.ts parks its TCP handle
 * with this object as the handle's owner): the two traffic secrets and the next sequence number
 * each way — about 150 bytes where a TLSSocket held some 50 KB. Keys and IVs are derived again
 * from the secrets when needed (two HMACs each).
 *
 * Both secrets are kept in one latin1 string (the read secret, then the write secret): a string of 64 or 96 bytes costs about 80–112 bytes of heap, where two Buffers cost
 * some 470 (a Buffer object, its ArrayBuffer and the backing store's record, each twice) — a
 * quarter of what a parked TLS session keeps in all (bench/RESULTS.md, "Hibernated TLS IDLE per
 * connection").
 */
import type { Socket } from 'node:net';
import { CONTENT_APPLICATION, CONTENT_HANDSHAKE, MAX_PLAINTEXT, TrafficKeys, type Suite } from './keys.js';
import { KEY_UPDATE_AFTER_RECORDS, TlsRecordSocket, keyUpdateMessage, type RecordState } from './record-socket.js';

/** The owner a parked handle tells when it comes back (parked-socket.ts's ParkedSocketOwner). */
export interface RecordsOwner {
  revived(socket: TlsRecordSocket): void;
}

export class ParkedRecords {
  private readonly suite: Suite;
  /** The read secret then the write secret, latin1; the read secret is its first `readLength` bytes. */
  private secrets: string;
  private readonly readLength: number;
  private readonly readSeq: number;
  private writeSeq: number;

  constructor(
    state: RecordState,
    private readonly owner: RecordsOwner,
  ) {
    this.suite = state.suite;
    // One flat string from one Buffer: `a + b` would keep a cons string over two strings.
    this.secrets = Buffer.concat([state.read.secret, state.write.secret]).toString('latin1');
    this.readLength = state.read.secret.length;
    this.readSeq = state.read.seq;
    this.writeSeq = state.write.seq;
  }

  private secret(which: 'read' | 'write'): Buffer {
    const text = which === 'read' ? this.secrets.slice(0, this.readLength) : this.secrets.slice(this.readLength);
    return Buffer.from(text, 'latin1');
  }

  /**
   * Application data records of `text` (latin1) under our keys, as the connection would send them;
   * the sequence number moves on, so the bytes must go on the wire, once, before anything later.
   */
  seal(text: string): Buffer {
    const data = Buffer.from(text, 'latin1');
    const start = this.secret('write');
    let keys = new TrafficKeys(this.suite, start, this.writeSeq);
    const records: Buffer[] = [];
    for (let at = 0; at < data.length; at += MAX_PLAINTEXT) {
      if (keys.seq >= KEY_UPDATE_AFTER_RECORDS) {
        records.push(keys.seal(CONTENT_HANDSHAKE, keyUpdateMessage()));
        keys = keys.next();
      }
      records.push(keys.seal(CONTENT_APPLICATION, data, at, Math.min(data.length, at + MAX_PLAINTEXT)));
    }
    if (keys.secret !== start) this.secrets = Buffer.concat([this.secret('read'), keys.secret]).toString('latin1');
    this.writeSeq = keys.seq;
    return records.length === 1 ? records[0]! : Buffer.concat(records);
  }

  /** The TCP socket is back: the connection goes on as a record socket with the kept state. */
  revived(raw: Socket): void {
    const state: RecordState = {
      suite: this.suite,
      read: new TrafficKeys(this.suite, this.secret('read'), this.readSeq),
      write: new TrafficKeys(this.suite, this.secret('write'), this.writeSeq),
    };
    this.owner.revived(new TlsRecordSocket(raw, state));
  }
}
