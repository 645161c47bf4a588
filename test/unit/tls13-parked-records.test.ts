/**
 * A parked TLS 1.3 connection's record state (src/net/tls13/parked-records.ts): what it seals while
 * parked opens under the peer's keys at the right sequence numbers — across a KeyUpdate when the
 * write sequence reaches its limit — and the connection it revives goes on with the keys the peer
 * expects next, each way.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { CONTENT_APPLICATION, CONTENT_HANDSHAKE, SUITES, TrafficKeys } from '../../src/net/tls13/keys.js';
import { ParkedRecords } from '../../src/net/tls13/parked-records.js';
import { KEY_UPDATE_AFTER_RECORDS, keyUpdateMessage, type TlsRecordSocket } from '../../src/net/tls13/record-socket.js';

const records = (bytes: Buffer): [Buffer, Buffer][] => {
  const out: [Buffer, Buffer][] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = at + 5 + bytes.readUInt16BE(at + 3);
    out.push([bytes.subarray(at, at + 5), bytes.subarray(at + 5, end)]);
    at = end;
  }
  return out;
};

for (const suite of SUITES.values()) {
  describe(`ParkedRecords (${suite.name})`, () => {
    const readSecret = Buffer.alloc(suite.hashLength, 0x11);
    const writeSecret = Buffer.alloc(suite.hashLength, 0x22);

    it('seals at the next write sequence number and keeps counting', () => {
      const parked = new ParkedRecords({ suite, read: new TrafficKeys(suite, readSecret, 7), write: new TrafficKeys(suite, writeSecret, 41) }, { revived: () => undefined });
      const peer = new TrafficKeys(suite, writeSecret, 41);
      for (const text of ['* 3 EXISTS\r\n', '* 4 EXISTS\r\n']) {
        const [one, ...rest] = records(parked.seal(text));
        assert.equal(rest.length, 0);
        assert.deepEqual(peer.open(...one!), { type: CONTENT_APPLICATION, content: Buffer.from(text, 'latin1') });
      }
      assert.equal(peer.seq, 43);
    });

    it('sends a KeyUpdate at the limit and revives with the updated write keys and the kept read keys', () => {
      let revived: TlsRecordSocket | null = null;
      const parked = new ParkedRecords(
        { suite, read: new TrafficKeys(suite, readSecret, 5), write: new TrafficKeys(suite, writeSecret, KEY_UPDATE_AFTER_RECORDS - 1) },
        { revived: (s) => (revived = s) },
      );
      const text = 'x'.repeat(20_000); // two records: the limit is reached between them
      const got = records(parked.seal(text));
      assert.equal(got.length, 3, 'a record, the KeyUpdate, a record');
      const peer = new TrafficKeys(suite, writeSecret, KEY_UPDATE_AFTER_RECORDS - 1);
      const first = peer.open(...got[0]!)!;
      assert.deepEqual(peer.open(...got[1]!), { type: CONTENT_HANDSHAKE, content: keyUpdateMessage() });
      const next = peer.next();
      const second = next.open(...got[2]!)!;
      assert.equal(Buffer.concat([first.content, second.content]).toString('latin1'), text);

      const raw = new net.Socket();
      parked.revived(raw);
      const socket = revived as TlsRecordSocket | null;
      assert.ok(socket, 'the owner got the record socket');
      const state = socket.state;
      assert.deepEqual(state.write.secret, next.secret, 'the write keys after the KeyUpdate');
      assert.equal(state.write.seq, 1);
      assert.deepEqual(state.read.secret, readSecret);
      assert.equal(state.read.seq, 5);
      socket.destroy();
    });
  });
}
