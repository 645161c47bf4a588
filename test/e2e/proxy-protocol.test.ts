/**
 * The PROXY protocol at the IMAP, IMAPS, POP3 and LMTP listeners, over real sockets. The trusted
 * proxy is 127.0.0.2 (Linux routes all of 127/8 to loopback, so a client can bind it as its
 * source); connections from 127.0.0.1 are "elsewhere".
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { startLmtpServer } from '../helpers/lmtp-server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { testCertificate } from '../helpers/certs.js';
import { PROXY_V2_SIGNATURE } from '../../src/net/proxy-protocol.js';

const PROXY = '127.0.0.2';

function v2Header(src: string, sport: number): Buffer {
  const head = Buffer.from([0x21, 0x11, 0, 12 + 7]);
  const block = Buffer.alloc(12);
  src.split('.').forEach((n, i) => (block[i] = Number(n)));
  block.set([127, 0, 0, 1], 4);
  block.writeUInt16BE(sport, 8);
  block.writeUInt16BE(993, 10);
  // One TLV (PP2_TYPE_AUTHORITY), to be skipped.
  const tlv = Buffer.from([0x02, 0x00, 0x04, ...Buffer.from('mail')]);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, block, tlv]);
}

/** A socket from `from` to `port`, with everything it receives collected. */
async function connect(port: number, from = PROXY): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, text: () => received, closed };
}

async function until(what: string, test: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PROXY protocol: IMAP', () => {
  let server: TestServer;
  before(async () => {
    server = await startImapServer({
      // Generous: the byte-by-byte test below must not race the deadline on a busy machine.
      proxyProtocol: { trustedProxies: [`${PROXY}/32`], headerTimeoutSeconds: 30 },
      limits: { maxConnectionsPerIp: 1 },
    });
  });
  after(() => server.close());

  it('takes the client address from a v1 header sent byte by byte, and greets only after it', async () => {
    const c = await connect(server.port);
    const header = 'PROXY TCP4 198.51.100.7 127.0.0.1 40001 143\r\n';
    for (const ch of header) {
      assert.equal(c.text(), '', 'no greeting before the whole header');
      c.socket.write(ch);
      await new Promise((r) => setTimeout(r, 1));
    }
    await until('greeting', () => c.text().includes('* OK'));
    c.socket.write('a1 LOGIN alice secret\r\n');
    await until('login', () => c.text().includes('a1 OK'));
    const seen = server.server.connections().find((s) => s.user === 'alice');
    assert.equal(seen?.remoteAddress, '198.51.100.7');
    assert.equal(seen?.remotePort, 40001);
    c.socket.destroy();
  });

  it('keeps the bytes that follow the header in the same packet', async () => {
    const c = await connect(server.port);
    c.socket.write(`PROXY TCP6 2001:db8::9 ::1 40002 143\r\na1 NOOP\r\n`);
    await until('NOOP answer', () => c.text().includes('a1 OK'));
    assert.ok(server.server.connections().some((s) => s.remoteAddress === '2001:db8::9'));
    c.socket.destroy();
  });

  it('reads a v2 header with a TLV before the TLS handshake on the implicit-TLS port', async () => {
    const raw = await connect(server.tlsPort);
    raw.socket.write(v2Header('203.0.113.50', 50000));
    const secure = tls.connect({ socket: raw.socket, rejectUnauthorized: false });
    let text = '';
    secure.on('data', (d: Buffer) => (text += d.toString()));
    await until('TLS greeting', () => text.includes('* OK'));
    secure.write('a1 LOGIN bob hunter2\r\n');
    await until('login', () => text.includes('a1 OK'));
    const seen = server.server.connections().find((s) => s.user === 'bob');
    assert.equal(seen?.remoteAddress, '203.0.113.50');
    assert.equal(seen?.secure, true);
    secure.destroy();
  });

  it('applies the per-address limit to the client addresses in the headers, not the proxy', async () => {
    const one = await connect(server.port);
    one.socket.write('PROXY TCP4 192.0.2.1 127.0.0.1 1 143\r\n');
    const two = await connect(server.port);
    two.socket.write('PROXY TCP4 192.0.2.2 127.0.0.1 2 143\r\n');
    await until('two greetings', () => one.text().includes('* OK') && two.text().includes('* OK'));
    const three = await connect(server.port);
    three.socket.write('PROXY TCP4 192.0.2.1 127.0.0.1 3 143\r\n');
    await until('refusal', () => three.text().includes('* BYE'));
    assert.match(three.text(), /Too many connections from your address/);
    for (const c of [one, two, three]) c.socket.destroy();
  });

  it('refuses a trusted proxy that sends no header, a bad one, or none in time', async () => {
    const bare = await connect(server.port);
    bare.socket.write('a1 LOGIN alice secret\r\n');
    await bare.closed;
    assert.match(bare.text(), /^\* BYE .*did not start with a PROXY protocol header/);
    assert.doesNotMatch(bare.text(), /a1/);

    const garbage = await connect(server.port);
    garbage.socket.write('PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n');
    await garbage.closed;
    assert.match(garbage.text(), /^\* BYE PROXY v1 header: addresses are not TCP4/);

    const hasty = await startImapServer({ proxyProtocol: { trustedProxies: [PROXY], headerTimeoutSeconds: 0.5 } });
    try {
      const slow = await connect(hasty.port);
      slow.socket.write('PROXY TCP4 192.0.2.');
      await slow.closed;
      assert.match(slow.text(), /^\* BYE no complete PROXY protocol header .* within 0.5 s/);
    } finally {
      await hasty.close();
    }

    const oversize = await connect(server.tlsPort);
    const big = v2Header('192.0.2.1', 1);
    big.writeUInt16BE(9000, 14);
    oversize.socket.write(big);
    await oversize.closed;
    assert.equal(oversize.text(), '', 'the implicit-TLS port closes without clear text');
  });

  it('refuses a header from an address that is not a trusted proxy, before the protocol answers it', async () => {
    const c = await connect(server.port, '127.0.0.1');
    await until('greeting', () => c.text().includes('* OK'));
    c.socket.write('PROXY TCP4 10.9.9.9 127.0.0.1 1 143\r\n');
    await c.closed;
    assert.match(c.text(), /\* BYE a PROXY protocol header from 127\.0\.0\.1, which is not in trustedProxies/);
    assert.doesNotMatch(c.text(), /BAD/);
    // A client there without a header is served as usual, under its own address.
    const plain = await connect(server.port, '127.0.0.1');
    plain.socket.write('a1 NOOP\r\n');
    await until('NOOP', () => plain.text().includes('a1 OK'));
    plain.socket.destroy();
  });
});

describe('PROXY protocol: POP3 and LMTP', () => {
  it('POP3 takes the client address from the header on both ports', async () => {
    const store = new MemoryStore();
    const server = createPop3Server({
      store,
      auth: new StaticAuthenticator({ alice: 'secret' }),
      host: '127.0.0.1',
      port: 0,
      tlsPort: 0,
      tls: await testCertificate(),
      allowInsecureAuth: true,
      proxyProtocol: { trustedProxies: [PROXY] },
    });
    const ports = await server.listen();
    try {
      const c = await connect(ports.port!);
      c.socket.write('PROXY TCP4 198.51.100.77 127.0.0.1 4242 110\r\nUSER alice\r\n');
      await until('USER answer', () => (c.text().match(/\+OK/g) ?? []).length >= 2);
      assert.deepEqual(
        server.connections().map((s) => [s.remoteAddress, s.remotePort]),
        [['198.51.100.77', 4242]],
      );
      c.socket.destroy();

      const raw = await connect(ports.tlsPort!);
      raw.socket.write(v2Header('203.0.113.8', 995));
      const secure = tls.connect({ socket: raw.socket, rejectUnauthorized: false });
      let text = '';
      secure.on('data', (d: Buffer) => (text += d.toString()));
      await until('POP3S greeting', () => text.startsWith('+OK'));
      await until('session listed', () => server.connections().some((s) => s.remoteAddress === '203.0.113.8'));
      secure.destroy();

      const bare = await connect(ports.port!);
      bare.socket.write('USER alice\r\n');
      await bare.closed;
      assert.match(bare.text(), /^-ERR \[SYS\/PERM\] .*did not start with a PROXY protocol header/);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('LMTP applies allowFrom to the address in the header', async () => {
    const lmtp = await startLmtpServer({ allowFrom: ['192.0.2.0/24'], proxyProtocol: { trustedProxies: [PROXY] } });
    try {
      const allowed = await connect(lmtp.port);
      allowed.socket.write('PROXY TCP4 192.0.2.25 127.0.0.1 2525 24\r\n');
      await until('greeting', () => allowed.text().startsWith('220 '));
      allowed.socket.destroy();
      const other = await connect(lmtp.port);
      other.socket.write('PROXY TCP4 198.51.100.25 127.0.0.1 2525 24\r\n');
      await other.closed;
      assert.match(other.text(), /^554 5\.7\.1/);
      const untrusted = await connect(lmtp.port, '127.0.0.1');
      // From elsewhere (and not in allowFrom either): refused as before.
      await untrusted.closed;
      assert.match(untrusted.text(), /^554 5\.7\.1/);
    } finally {
      await lmtp.close();
    }
  });
});
