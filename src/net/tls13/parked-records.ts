/**
 * A hibernated TLS 1.3 connection's record state (src/net/parked-socket.ts parks its TCP handle
 * with this object as the handle's owner): the two traffic secrets and the next sequence number
 * each way — about 200 bytes where a TLSSocket held some 50 KB. Keys and IVs are derived again
 * from the secrets when needed (two HMACs each).
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
  private readonly readSecret: Buffer;
  private readonly readSeq: number;
  private writeSecret: Buffer;
  private writeSeq: number;

  constructor(
    state: RecordState,
    private readonly owner: RecordsOwner,
  ) {
    this.suite = state.suite;
    this.readSecret = state.read.secret;
    this.readSeq = state.read.seq;
    this.writeSecret = state.write.secret;
    this.writeSeq = state.write.seq;
  }

  /**
   * Application data records of `text` (latin1) under our keys, as the connection would send them;
   * the sequence number moves on, so the bytes must go on the wire, once, before anything later.
   */
  seal(text: string): Buffer {
    const data = Buffer.from(text, 'latin1');
    let keys = new TrafficKeys(this.suite, this.writeSecret, this.writeSeq);
    const records: Buffer[] = [];
    for (let at = 0; at < data.length; at += MAX_PLAINTEXT) {
      if (keys.seq >= KEY_UPDATE_AFTER_RECORDS) {
        records.push(keys.seal(CONTENT_HANDSHAKE, keyUpdateMessage()));
        keys = keys.next();
      }
      records.push(keys.seal(CONTENT_APPLICATION, data, at, Math.min(data.length, at + MAX_PLAINTEXT)));
    }
    this.writeSecret = keys.secret;
    this.writeSeq = keys.seq;
    return records.length === 1 ? records[0]! : Buffer.concat(records);
  }

  /** The TCP socket is back: the connection goes on as a record socket with the kept state. */
  revived(raw: Socket): void {
    const state: RecordState = {
      suite: this.suite,
      read: new TrafficKeys(this.suite, this.readSecret, this.readSeq),
      write: new TrafficKeys(this.suite, this.writeSecret, this.writeSeq),
    };
    this.owner.revived(new TlsRecordSocket(raw, state));
  }
}
