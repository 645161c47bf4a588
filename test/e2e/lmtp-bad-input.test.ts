/**
 * Bad input to the LMTP server gets a clear reply code, never a crash, and nothing half-stored:
 * addresses that are not UTF-8, 10,000 RCPTs, a 10 MB line (as a command and inside DATA), NUL
 * bytes, malformed MAIL FROM parameters. After each, the same server still delivers.
 */
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { LmtpClient } from '../../src/lmtp/client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { startLmtpServer, storedMessages, type TestLmtpServer } from '../helpers/lmtp-server.js';
import { RawClient } from '../helpers/raw-client.js';

let lmtp: TestLmtpServer;
const store = new MemoryStore();

async function session(): Promise<RawClient> {
  const c = new RawClient(lmtp.port);
  await c.expect(/^220 /);
  c.send('LHLO mta.test\r\n');
  await c.expect(/^250 SIZE/);
  return c;
}

/** The server still takes mail: one delivery to carol, checked in the store. */
async function stillDelivers(): Promise<void> {
  const before = (await storedMessages(store, 'carol')).length;
  const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
  const result = await client.send('s@example.org', [{ address: 'carol@example.org' }], Buffer.from('Subject: still here\r\n\r\n'));
  await client.quit();
  assert.equal(result.delivery[0]?.code, 250);
  assert.equal((await storedMessages(store, 'carol')).length, before + 1);
}

describe('LMTP bad input', () => {
  before(async () => {
    lmtp = await startLmtpServer({ store, limits: { maxMessageSize: 32 * 1024 * 1024 } });
  });
  after(() => lmtp.close());

  it('addresses that are not UTF-8: 553 for the sender (5.1.7) and the recipient (5.1.3)', async () => {
    const c = await session();
    c.send(Buffer.concat([Buffer.from('MAIL FROM:<s'), Buffer.from([0xff, 0xfe]), Buffer.from('@example.org>\r\n')]));
    assert.equal(await c.expect(/.*/), '553 5.1.7 Address is not valid UTF-8');
    c.send('MAIL FROM:<s@example.org>\r\n');
    await c.expect(/^250 /);
    c.send(Buffer.concat([Buffer.from('RCPT TO:<ann'), Buffer.from([0xc3, 0x28]), Buffer.from('@example.org>\r\n')]));
    assert.equal(await c.expect(/.*/), '553 5.1.3 Address is not valid UTF-8');
    c.send('DATA\r\n');
    assert.match(await c.expect(/.*/), /^503 5\.5\.1 /);
    c.destroy();
    await stillDelivers();
  });

  it('10,000 RCPTs in one write: the first maxRecipients (1,000) accepted, the rest 452 4.5.3; one reply each after DATA', async () => {
    const c = await session();
    const rcpts = Array.from({ length: 10_000 }, (_, i) => `RCPT TO:<ann+${i}@example.org>\r\n`).join('');
    c.send(`MAIL FROM:<s@example.org>\r\n${rcpts}DATA\r\n`);
    await c.expect(/^250 2\.1\.0 /);
    const replies = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const line = await c.expect(/.*/, 30_000);
      const key = line.slice(0, 9);
      replies.set(key, (replies.get(key) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(replies), { '250 2.1.5': 1000, '452 4.5.3': 9000 });
    await c.expect(/^354 /);
    c.send('Subject: many\r\n\r\nbody\r\n.\r\n');
    for (let i = 0; i < 1000; i++) assert.match(await c.expect(/.*/, 30_000), /^250 2\.0\.0 <ann\+\d+@example\.org> Saved$/);
    c.send('NOOP\r\n');
    assert.equal(await c.expect(/.*/), '250 2.0.0 OK', 'exactly 1,000 replies came after DATA');
    c.destroy();
    assert.equal((await storedMessages(store, 'ann')).length, 1000);
  });

  it('a 10 MB command line: 421 and the connection closed; a 10 MB line in DATA is stored as sent', async () => {
    const c = await session();
    c.send(`MAIL FROM:<${'a'.repeat(10 * 1024 * 1024)}@example.org>\r\n`);
    assert.match(await c.expect(/.*/, 20_000), /^421 4\.4\.2 Error: Command line too long$/);
    await c.waitClosed(10_000);

    const before = (await storedMessages(store, 'bob')).length;
    const line = 'b'.repeat(10 * 1024 * 1024);
    const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
    const result = await client.send('s@example.org', [{ address: 'bob@example.org' }], Buffer.from(`Subject: long line\r\n\r\n${line}\r\n`));
    await client.quit();
    assert.equal(result.delivery[0]?.code, 250);
    const stored = await storedMessages(store, 'bob');
    assert.equal(stored.length, before + 1);
    assert.ok(stored.at(-1)!.toString().endsWith(`\r\n\r\n${line}\r\n`));
    await stillDelivers();
  });

  it('NUL bytes in DATA: 554 5.6.0 for every recipient, nothing stored', async () => {
    const before = (await storedMessages(store, 'ann')).length;
    const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
    const result = await client.send('s@example.org', [{ address: 'ann@example.org' }, { address: 'bob@example.org' }], Buffer.from('Subject: nul\r\n\r\na\0b\r\n'));
    await client.quit();
    assert.deepEqual(
      result.delivery.map((r) => `${r?.code} ${r?.enhanced} ${r?.text}`),
      ['554 5.6.0 Message contains NUL characters', '554 5.6.0 Message contains NUL characters'],
    );
    assert.equal((await storedMessages(store, 'ann')).length, before);
    await stillDelivers();
  });

  it('malformed MAIL FROM parameters: a 5xx each, and the session goes on', async () => {
    const c = await session();
    const cases: Array<[string, RegExp]> = [
      ['MAIL FROM:<s@example.org> SIZE=', /^501 5\.5\.4 Error: SIZE parameter requires a value$/],
      ['MAIL FROM:<s@example.org> SIZE=123456789012345678901', /^501 5\.5\.4 Error: Bad message size syntax$/],
      ['MAIL FROM:<s@example.org> SIZE=99999999999999', /^552 5\.3\.4 /],
      ['MAIL FROM:<s@example.org> =value', /^250 2\.1\.0 /], // an empty keyword is ignored by smtp-server
      ['RSET', /^250 /],
      ['MAIL FROM:<s@example.org> ENVID=a+0D+0Ab', /^501 5\.1\.7 /],
      ['MAIL FROM:<s@example.org> RET=FULL', /^555 5\.5\.4 MAIL FROM parameter RET not supported$/],
      ['MAIL FROM:<s@example.org> SMTPUTF8=yes', /^501 5\.5\.4 Invalid SMTPUTF8 parameter/],
      ['MAIL FROM:<s@@example.org>', /^501 5\.1\.7 /],
      ['MAIL FROM:<s@example.org', /^501 5\.1\.7 /],
      ['MAIL FROM:<s@example.org> BODY=8BITMIME BODY=8BITMIME', /^501 5\.5\.4 Error: duplicate BODY parameter$/],
      ['MAIL FROM <s@example.org>', /^501 5\.1\.7 /],
      ['MAIL', /^501 5\.1\.7 /],
    ];
    for (const [command, expected] of cases) {
      c.send(`${command}\r\n`);
      assert.match(await c.expect(/.*/), expected, command);
    }
    c.send('QUIT\r\n');
    await c.expect(/^221 /);
    await stillDelivers();
  });
});
