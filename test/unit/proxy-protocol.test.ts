import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProxyHeader, PROXY_V2_SIGNATURE, type ProxyParse } from '../../src/net/proxy-protocol.js';

/** A v2 header: command (0 LOCAL, 1 PROXY), family byte, address block, TLVs. */
export function v2(command: number, familyTransport: number, block: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = familyTransport;
  head.writeUInt16BE(block.length + tlvs.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, block, tlvs]);
}

export function inet4Block(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  src.split('.').forEach((n, i) => (b[i] = Number(n)));
  dst.split('.').forEach((n, i) => (b[4 + i] = Number(n)));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

function tlv(type: number, value: Buffer): Buffer {
  const b = Buffer.alloc(3);
  b[0] = type;
  b.writeUInt16BE(value.length, 1);
  return Buffer.concat([b, value]);
}

function done(result: ProxyParse): Extract<ProxyParse, { status: 'done' }>['header'] {
  assert.equal(result.status, 'done', JSON.stringify(result));
  return (result as Extract<ProxyParse, { status: 'done' }>).header;
}

function invalid(result: ProxyParse): string {
  assert.equal(result.status, 'invalid', JSON.stringify(result));
  return (result as Extract<ProxyParse, { status: 'invalid' }>).reason;
}

describe('PROXY protocol v1', () => {
  it('reads TCP4 and TCP6 lines and stops at the CRLF', () => {
    const line = 'PROXY TCP4 198.51.100.22 203.0.113.7 35646 993\r\n';
    const h = done(parseProxyHeader(Buffer.from(`${line}a1 CAPABILITY\r\n`)));
    assert.deepEqual(h.source, { address: '198.51.100.22', port: 35646 });
    assert.deepEqual(h.destination, { address: '203.0.113.7', port: 993 });
    assert.equal(h.length, line.length);
    assert.equal(h.command, 'proxy');
    const six = done(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n')));
    assert.deepEqual(six.source, { address: '2001:db8::1', port: 65535 });
    assert.equal(six.family, 'tcp6');
  });

  it('takes UNKNOWN (whatever follows) as "use the connection\'s own address"', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n']) {
      const h = done(parseProxyHeader(Buffer.from(line)));
      assert.equal(h.command, 'local');
      assert.equal(h.source, undefined);
    }
  });

  it('needs more bytes until the CRLF, arriving byte by byte', () => {
    const bytes = Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n');
    for (let n = 1; n < bytes.length; n++) assert.equal(parseProxyHeader(bytes.subarray(0, n)).status, 'incomplete', `at ${n} bytes`);
    assert.equal(done(parseProxyHeader(bytes)).source?.address, '192.0.2.1');
  });

  it('refuses malformed lines', () => {
    for (const line of [
      'PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n',
      'PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n',
      'PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n',
      'PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n',
      'PROXY TCP6 192.0.2.1 192.0.2.2 1 2\r\n',
      'PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n',
      'PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n',
      'PROXY TCP4 192.0.2.1 192.0.2.2 -1 2\r\n',
      'PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n',
      'PROXY TCP4 192.0.2.999 192.0.2.2 1 2\r\n',
    ]) {
      invalid(parseProxyHeader(Buffer.from(line)));
    }
  });

  it('refuses what is not a header, and a line past 107 bytes without waiting for its end', () => {
    assert.match(invalid(parseProxyHeader(Buffer.from('a1 LOGIN x y\r\n'))), /did not start with a PROXY/);
    assert.match(invalid(parseProxyHeader(Buffer.from('\x16\x03\x01\x02\x00'))), /did not start/);
    assert.match(invalid(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`))), /longer than 107/);
    const long = `PROXY UNKNOWN ${'x'.repeat(95)}\r\n`;
    assert.ok(long.length > 107);
    assert.match(invalid(parseProxyHeader(Buffer.from(long))), /longer than 107/);
  });
});

describe('PROXY protocol v2', () => {
  it('reads an IPv4 PROXY header and leaves the bytes after it', () => {
    const header = v2(1, 0x11, inet4Block('198.51.100.22', '203.0.113.7', 35646, 143));
    const h = done(parseProxyHeader(Buffer.concat([header, Buffer.from('a1 NOOP\r\n')])));
    assert.equal(h.version, 2);
    assert.equal(h.length, header.length);
    assert.deepEqual(h.source, { address: '198.51.100.22', port: 35646 });
    assert.deepEqual(h.destination, { address: '203.0.113.7', port: 143 });
  });

  it('reads IPv6 addresses in their canonical text form', () => {
    const block = Buffer.alloc(36);
    block.write('20010db8000000000000000000000005', 0, 'hex');
    block.write('00000000000000000000000000000001', 16, 'hex');
    block.writeUInt16BE(40000, 32);
    block.writeUInt16BE(993, 34);
    const h = done(parseProxyHeader(v2(1, 0x21, block)));
    assert.deepEqual(h.source, { address: '2001:db8::5', port: 40000 });
    assert.equal(h.destination?.address, '::1');
  });

  it('skips TLVs, and refuses TLVs that do not fit', () => {
    const addresses = inet4Block('192.0.2.9', '192.0.2.1', 1000, 110);
    const tlvs = Buffer.concat([tlv(0x01, Buffer.from('imap')), tlv(0x04, Buffer.alloc(0)), tlv(0x20, Buffer.alloc(40, 7))]);
    const h = done(parseProxyHeader(v2(1, 0x11, addresses, tlvs)));
    assert.equal(h.source?.address, '192.0.2.9');
    const cut = Buffer.concat([tlv(0x01, Buffer.from('imap')), Buffer.from([0x02, 0x00])]);
    assert.match(invalid(parseProxyHeader(v2(1, 0x11, addresses, cut))), /TLV is cut short/);
    const over = tlv(0x01, Buffer.from('imap'));
    over.writeUInt16BE(50, 1);
    assert.match(invalid(parseProxyHeader(v2(1, 0x11, addresses, over))), /TLV runs past/);
  });

  it('takes LOCAL (health checks) and UNSPEC as the connection\'s own address, skipping the block', () => {
    const local = done(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0))));
    assert.equal(local.command, 'local');
    assert.equal(local.length, 16);
    const withBlock = done(parseProxyHeader(v2(0, 0x11, inet4Block('10.0.0.1', '10.0.0.2', 1, 2))));
    assert.equal(withBlock.command, 'local');
    assert.equal(withBlock.source, undefined);
    assert.equal(done(parseProxyHeader(v2(1, 0x00, Buffer.alloc(4)))).command, 'local');
  });

  it('handles the UNIX family: no IP address, the path kept for logs', () => {
    const block = Buffer.alloc(216);
    block.write('/run/haproxy/client.sock', 0, 'latin1');
    const h = done(parseProxyHeader(v2(1, 0x31, block)));
    assert.equal(h.family, 'unix');
    assert.equal(h.command, 'local');
    assert.equal(h.unixSource, '/run/haproxy/client.sock');
    assert.match(invalid(parseProxyHeader(v2(1, 0x31, Buffer.alloc(100)))), /shorter than its family/);
  });

  it('needs more bytes while the header is incomplete, arriving byte by byte', () => {
    const header = v2(1, 0x11, inet4Block('192.0.2.50', '192.0.2.1', 5, 6), tlv(0x04, Buffer.alloc(10)));
    for (let n = 1; n < header.length; n++) assert.equal(parseProxyHeader(header.subarray(0, n)).status, 'incomplete', `at ${n} bytes`);
    assert.equal(done(parseProxyHeader(header)).source?.address, '192.0.2.50');
  });

  it('refuses a wrong version, an unknown command, family or transport, and an oversized header', () => {
    const good = v2(1, 0x11, inet4Block('192.0.2.1', '192.0.2.2', 1, 2));
    const badVersion = Buffer.from(good);
    badVersion[12] = 0x11;
    assert.match(invalid(parseProxyHeader(badVersion)), /version 1/);
    const badCommand = Buffer.from(good);
    badCommand[12] = 0x22;
    assert.match(invalid(parseProxyHeader(badCommand)), /unknown command/);
    const badFamily = Buffer.from(good);
    badFamily[13] = 0x41;
    assert.match(invalid(parseProxyHeader(badFamily)), /family/);
    const big = v2(1, 0x11, inet4Block('192.0.2.1', '192.0.2.2', 1, 2), tlv(0x04, Buffer.alloc(5000)));
    // Refused from its 16 fixed bytes, before the rest is waited for.
    assert.match(invalid(parseProxyHeader(big.subarray(0, 16), 4096)), /more than the 4096 allowed/);
    assert.equal(done(parseProxyHeader(big, 8192)).source?.address, '192.0.2.1');
    const sig = Buffer.from(PROXY_V2_SIGNATURE);
    sig[11] = 0x0b;
    assert.match(invalid(parseProxyHeader(Buffer.concat([sig, Buffer.alloc(8)]))), /did not start/);
  });

  it('refuses truncated address blocks', () => {
    assert.match(invalid(parseProxyHeader(v2(1, 0x11, Buffer.alloc(8)))), /shorter than its family/);
    assert.match(invalid(parseProxyHeader(v2(1, 0x21, Buffer.alloc(20)))), /shorter than its family/);
  });
});
