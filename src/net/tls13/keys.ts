/**
 * TLS 1.3 traffic keys (RFC 8446): the key and IV of one direction derived from its traffic secret
 * (§7.3), the next secret after a KeyUpdate (§7.2), and one record sealed or opened with them
 * (§5.2, per-record nonce §5.3). No I/O: record-socket.ts and takeover.ts do the reading and
 * writing. Only the three AEAD suites OpenSSL offers by default are known; a connection with any
 * other keeps OpenSSL's record layer.
 */
import crypto from 'node:crypto';

export interface Suite {
  /** The IANA name, as TLSSocket.getCipher().standardName gives it. */
  readonly name: string;
  /** node:crypto's name of the AEAD. */
  readonly aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  readonly keyLength: number;
  readonly hash: 'sha256' | 'sha384';
  readonly hashLength: number;
}

export const SUITES: ReadonlyMap<string, Suite> = new Map(
  (
    [
      { name: 'TLS_AES_128_GCM_SHA256', aead: 'aes-128-gcm', keyLength: 16, hash: 'sha256', hashLength: 32 },
      { name: 'TLS_AES_256_GCM_SHA384', aead: 'aes-256-gcm', keyLength: 32, hash: 'sha384', hashLength: 48 },
      { name: 'TLS_CHACHA20_POLY1305_SHA256', aead: 'chacha20-poly1305', keyLength: 32, hash: 'sha256', hashLength: 32 },
    ] as const
  ).map((s) => [s.name, s]),
);

/** All three suites use a 12-byte nonce and a 16-byte tag (RFC 8446 §5.3, RFC 5116, RFC 8439). */
const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Most plaintext bytes in one record (§5.1), and the most an encrypted record's body may add (§5.2). */
export const MAX_PLAINTEXT = 16384;
export const MAX_CIPHERTEXT = MAX_PLAINTEXT + 256;
/** TLSInnerPlaintext content types (§5.1). */
export const CONTENT_ALERT = 21;
export const CONTENT_HANDSHAKE = 22;
export const CONTENT_APPLICATION = 23;

/** HKDF-Expand-Label (§7.1): HKDF-Expand (RFC 5869 §2.3) over the label "tls13 " + `label`. */
export function hkdfExpandLabel(hash: Suite['hash'], secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = context.length;
  context.copy(info, 4 + full.length);
  const out = Buffer.alloc(length);
  let block = Buffer.alloc(0);
  for (let i = 1, at = 0; at < length; i++) {
    block = crypto.createHmac(hash, secret).update(block).update(info).update(Buffer.of(i)).digest();
    at += block.copy(out, at);
  }
  return out;
}

const EMPTY = Buffer.alloc(0);

/**
 * One direction's record protection: the traffic secret it came from, its key and IV, and the
 * sequence number of the next record (§5.3). The sequence number is a JavaScript number: exact up
 * to 2^53, far beyond the 2^24.5 records one AES-GCM key may protect (§5.5) — RecordSocket updates
 * its keys long before.
 */
export class TrafficKeys {
  /** A KeyObject: node:crypto takes it without converting a Buffer per record (about 8 % of a seal). */
  readonly key: crypto.KeyObject;
  readonly iv: Buffer;

  constructor(
    readonly suite: Suite,
    readonly secret: Buffer,
    public seq = 0,
  ) {
    this.key = crypto.createSecretKey(hkdfExpandLabel(suite.hash, secret, 'key', EMPTY, suite.keyLength));
    this.iv = hkdfExpandLabel(suite.hash, secret, 'iv', EMPTY, IV_LENGTH);
  }

  /** The keys after a KeyUpdate (§4.6.3, §7.2): the next application traffic secret, sequence 0. */
  next(): TrafficKeys {
    return new TrafficKeys(this.suite, hkdfExpandLabel(this.suite.hash, this.secret, 'traffic upd', EMPTY, this.suite.hashLength));
  }

  /** The per-record nonce (§5.3): the IV XOR the 64-bit sequence number, left-padded. */
  private nonce(seq: number): Buffer {
    const nonce = Buffer.from(this.iv);
    const high = Math.floor(seq / 0x1_0000_0000);
    const low = seq >>> 0;
    nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ high) >>> 0, 4);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ low) >>> 0, 8);
    return nonce;
  }

  /**
   * One TLSCiphertext record (§5.2) of `content` (at most MAX_PLAINTEXT bytes) with inner content
   * type `type` and no padding. Takes the next sequence number: the record must go on the wire
   * exactly once and in this order.
   */
  seal(type: number, content: Buffer, from = 0, to = content.length): Buffer {
    const length = to - from;
    const record = Buffer.allocUnsafe(5 + length + 1 + TAG_LENGTH);
    record[0] = CONTENT_APPLICATION;
    record[1] = 3;
    record[2] = 3;
    record.writeUInt16BE(length + 1 + TAG_LENGTH, 3);
    const cipher = crypto.createCipheriv(this.suite.aead as crypto.CipherGCMTypes, this.key, this.nonce(this.seq++), { authTagLength: TAG_LENGTH });
    cipher.setAAD(record.subarray(0, 5));
    // The inner plaintext (content, type) built in the record's own bytes and encrypted in one call.
    const inner = record.subarray(5, 5 + length + 1);
    content.copy(inner, 0, from, to);
    inner[length] = type;
    let at = 5 + cipher.update(inner).copy(record, 5);
    at += cipher.final().copy(record, at);
    cipher.getAuthTag().copy(record, at);
    return record;
  }

  /**
   * Opens a TLSCiphertext (`header` its 5 bytes, `body` the encrypted record) under the next
   * sequence number. Null when it does not authenticate (the caller answers bad_record_mac, §5.2);
   * else the inner content type (0 when the plaintext is all padding) and the content without
   * padding (§5.4). The sequence number moves on only when the record opened.
   */
  open(header: Buffer, body: Buffer): { type: number; content: Buffer } | null {
    if (body.length < TAG_LENGTH) return null;
    const decipher = crypto.createDecipheriv(this.suite.aead as crypto.CipherGCMTypes, this.key, this.nonce(this.seq), { authTagLength: TAG_LENGTH });
    decipher.setAAD(header);
    decipher.setAuthTag(body.subarray(body.length - TAG_LENGTH));
    let plain: Buffer;
    try {
      const first = decipher.update(body.subarray(0, body.length - TAG_LENGTH));
      const last = decipher.final();
      plain = last.length ? Buffer.concat([first, last]) : first;
    } catch {
      return null;
    }
    this.seq++;
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    if (end === 0) return { type: 0, content: EMPTY };
    return { type: plain[end - 1]!, content: plain.subarray(0, end - 1) };
  }
}
