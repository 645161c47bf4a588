/**
 * Postroom's TLS 1.3 record layer (src/net/tls13/keys.ts) against RFC 8448's §3 trace (a simple
 * 1-RTT handshake, TLS_AES_128_GCM_SHA256): keys and IVs from the application traffic secrets
 * (RFC 8446 §7.3), the client's application data and close_notify records and the server's
 * application data record, sealed and opened at their sequence numbers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_ALERT, CONTENT_APPLICATION, SUITES, TrafficKeys, hkdfExpandLabel } from '../../src/net/tls13/keys.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const AES128 = SUITES.get('TLS_AES_128_GCM_SHA256')!;

// RFC 8448 §3.
const CLIENT_AP_SECRET = hex('9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5');
const SERVER_AP_SECRET = hex('a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43');
const PAYLOAD = Buffer.from(Array.from({ length: 50 }, (_, i) => i));
const CLIENT_APP_RECORD = hex(`17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea
  42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b
  62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4`);
const SERVER_APP_RECORD = hex(`17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc
  32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8
  fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d`);
const CLIENT_ALERT_RECORD = hex('17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3');

const split = (record: Buffer): [Buffer, Buffer] => [record.subarray(0, 5), record.subarray(5)];

describe('TLS 1.3 record layer (RFC 8448 §3)', () => {
  it('derives the application keys and IVs (RFC 8446 §7.3)', () => {
    const client = new TrafficKeys(AES128, CLIENT_AP_SECRET);
    assert.equal(client.key.export().toString('hex'), '17422dda596ed5d9acd890e3c63f5051');
    assert.equal(client.iv.toString('hex'), '5b78923dee08579033e523d9');
    const server = new TrafficKeys(AES128, SERVER_AP_SECRET);
    assert.equal(server.key.export().toString('hex'), '9f02283b6c9c07efc26bb9f2ac92e356');
    assert.equal(server.iv.toString('hex'), 'cf782b88dd83549aadf1e984');
  });

  it('HKDF-Expand-Label builds the label as §7.1 says (the trace\'s key info)', () => {
    // "key info (13 octets): 00 10 09 74 6c 73 31 33 20 6b 65 79 00": expanding with it by hand
    // gives the same key.
    const byHand = hkdfExpandLabel('sha256', SERVER_AP_SECRET, 'key', Buffer.alloc(0), 16);
    assert.equal(byHand.toString('hex'), '9f02283b6c9c07efc26bb9f2ac92e356');
  });

  it('seals the client\'s first application record byte for byte, and opens it', () => {
    const sealer = new TrafficKeys(AES128, CLIENT_AP_SECRET);
    assert.deepEqual(sealer.seal(CONTENT_APPLICATION, PAYLOAD), CLIENT_APP_RECORD);
    assert.equal(sealer.seq, 1);
    const opener = new TrafficKeys(AES128, CLIENT_AP_SECRET);
    const opened = opener.open(...split(CLIENT_APP_RECORD));
    assert.deepEqual(opened, { type: CONTENT_APPLICATION, content: PAYLOAD });
    // Then its close_notify, at sequence number 1.
    assert.deepEqual(opener.open(...split(CLIENT_ALERT_RECORD)), { type: CONTENT_ALERT, content: Buffer.of(1, 0) });
  });

  it('opens the server\'s application record at sequence number 1 (after its NewSessionTicket), not at 0', () => {
    const at0 = new TrafficKeys(AES128, SERVER_AP_SECRET);
    assert.equal(at0.open(...split(SERVER_APP_RECORD)), null, 'the wrong nonce does not authenticate');
    assert.equal(at0.seq, 0, 'a record that did not open does not move the sequence number');
    const at1 = new TrafficKeys(AES128, SERVER_AP_SECRET, 1);
    assert.deepEqual(at1.open(...split(SERVER_APP_RECORD)), { type: CONTENT_APPLICATION, content: PAYLOAD });
    const sealer = new TrafficKeys(AES128, SERVER_AP_SECRET, 1);
    assert.deepEqual(sealer.seal(CONTENT_APPLICATION, PAYLOAD), SERVER_APP_RECORD);
  });

  it('refuses a record with one bit changed, in the header (AAD) or the body', () => {
    for (const at of [0, 4, 5, 40, CLIENT_APP_RECORD.length - 1]) {
      const tampered = Buffer.from(CLIENT_APP_RECORD);
      tampered[at]! ^= 1;
      assert.equal(new TrafficKeys(AES128, CLIENT_AP_SECRET).open(...split(tampered)), null, `byte ${at}`);
    }
  });

  it('strips zero padding and finds the inner type (RFC 8446 §5.4); all padding is type 0', () => {
    for (const suite of SUITES.values()) {
      const secret = Buffer.alloc(suite.hashLength, 7);
      // Sealed with type 0 the inner plaintext is exactly what is given: content, type, padding.
      const padded = new TrafficKeys(suite, secret).seal(0, Buffer.concat([Buffer.from('hi'), Buffer.of(CONTENT_APPLICATION), Buffer.alloc(5)]));
      assert.deepEqual(new TrafficKeys(suite, secret).open(...split(padded)), { type: CONTENT_APPLICATION, content: Buffer.from('hi') }, suite.name);
      const allPadding = new TrafficKeys(suite, secret).seal(0, Buffer.alloc(3));
      assert.equal(new TrafficKeys(suite, secret).open(...split(allPadding))?.type, 0, suite.name);
    }
  });

  it('KeyUpdate: the next secret is HKDF-Expand-Label(secret, "traffic upd") and starts at sequence 0', () => {
    const keys = new TrafficKeys(AES128, SERVER_AP_SECRET, 5);
    const next = keys.next();
    assert.equal(next.seq, 0);
    assert.deepEqual(next.secret, hkdfExpandLabel('sha256', SERVER_AP_SECRET, 'traffic upd', Buffer.alloc(0), 32));
    assert.notDeepEqual(next.key.export(), keys.key.export());
  });

  it('uses the full 64-bit sequence number in the nonce (beyond 2^32)', () => {
    const a = new TrafficKeys(AES128, SERVER_AP_SECRET, 2 ** 32 + 3);
    const record = a.seal(CONTENT_APPLICATION, PAYLOAD);
    assert.equal(new TrafficKeys(AES128, SERVER_AP_SECRET, 3).open(...split(record)), null, 'not the nonce of 3');
    assert.deepEqual(new TrafficKeys(AES128, SERVER_AP_SECRET, 2 ** 32 + 3).open(...split(record))?.content, PAYLOAD);
  });
});
