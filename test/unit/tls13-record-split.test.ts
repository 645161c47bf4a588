/**
 * TlsRecordSocket reading records however the TCP reads cut them (src/net/tls13/record-socket.ts):
 * a record straddling two reads is completed from the next read alone (issue 23: the kept bytes
 * were joined with the whole next read), a header cut inside its five bytes, a record spread over
 * many reads, and an over-long record announced by a header that arrived in pieces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { CONTENT_APPLICATION, SUITES, TrafficKeys } from '../../src/net/tls13/keys.js';
import { TlsRecordSocket } from '../../src/net/tls13/record-socket.js';

const suite = SUITES.get('TLS_AES_128_GCM_SHA256')!;
const readSecret = Buffer.alloc(32, 7);
const writeSecret = Buffer.alloc(32, 9);

/** `count` records of application data, 16 KiB each but the last, as a client sends a large literal. */
function stream(bytes: number): { wire: Buffer; plain: Buffer } {
  const plain = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) plain[i] = (i * 31 + (i >> 8)) & 0xff;
  const peer = new TrafficKeys(suite, readSecret);
  const records: Buffer[] = [];
  for (let at = 0; at < bytes; at += 16384) records.push(peer.seal(CONTENT_APPLICATION, plain, at, Math.min(bytes, at + 16384)));
  return { wire: Buffer.concat(records), plain };
}

/** Feeds `wire` to a record socket in the pieces `cuts` makes, returns what it read. */
async function read(wire: Buffer, cuts: (at: number) => number): Promise<{ got: Buffer; error: Error | undefined }> {
  const raw = new net.Socket();
  const socket = new TlsRecordSocket(raw, { suite, read: new TrafficKeys(suite, readSecret), write: new TrafficKeys(suite, writeSecret) });
  const got: Buffer[] = [];
  let error: Error | undefined;
  socket.on('data', (d: Buffer) => got.push(d));
  socket.on('error', (e: Error) => (error = e));
  for (let at = 0; at < wire.length; ) {
    const n = Math.max(1, Math.min(cuts(at), wire.length - at));
    raw.emit('data', wire.subarray(at, at + n));
    at += n;
  }
  await new Promise((resolve) => setImmediate(resolve));
  socket.destroy();
  return { got: Buffer.concat(got), error };
}

describe('TLS 1.3 record socket: records cut across reads', () => {
  const { wire, plain } = stream(250_000);

  for (const [name, cuts] of [
    ['whole', () => wire.length],
    ['64 KiB reads (records straddle them)', () => 65536],
    ['reads of 16 KiB + 3 (headers cut inside)', () => 16387],
    ['reads of 7 bytes', () => 7],
    ['irregular reads', (at: number) => ((at * 7919) % 40_000) + 1],
  ] as const) {
    it(`opens every record: ${name}`, async () => {
      const { got, error } = await read(wire, cuts);
      assert.equal(error, undefined);
      assert.equal(got.length, plain.length);
      assert.ok(got.equals(plain), 'the same bytes, in order');
    });
  }

  it('one byte at a time', async () => {
    const small = stream(40_000);
    const { got, error } = await read(small.wire, () => 1);
    assert.equal(error, undefined);
    assert.ok(got.equals(small.plain));
  });

  it('refuses a record longer than 2^14 + 256 whose header came in pieces (record_overflow)', async () => {
    const { wire: ok } = stream(100);
    const bad = Buffer.from([0x17, 3, 3, 0x41, 0x01]);
    // A good record, then the over-long header cut after its third byte.
    const { got, error } = await read(Buffer.concat([ok, bad, Buffer.alloc(64)]), (at) => (at === 0 ? ok.length + 3 : 2));
    assert.equal(got.length, 100, 'the good record was read');
    assert.match(String(error?.message), /too long/);
  });
});
