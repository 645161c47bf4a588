/**
 * Message bytes are CRLF at the store contract (docs/store.md): a message with bare LF line ends —
 * APPENDed by a client, or served by a framework store that got it from elsewhere — is announced
 * with the size of what is then sent: IMAP RFC822.SIZE equals the length of BODY[], POP3 LIST
 * equals the octets RETR sends before stuffing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { createImapServer } from '../../src/imap/server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore } from '../../src/store/types.js';
import { ArrayStore } from '../../examples/minimal-store.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { RawPop3 } from './pop3/raw-client.js';
import { tinyAuthenticator } from './pop3/fixtures.js';
import { crlfChunks, toCrlf } from '../../src/store/line-ends.js';

const LF_MESSAGE = 'From: a@example.org\nTo: b@example.org\nSubject: bare LF\n\nline one\nline two\r\nlone CR\rhere\n';
const auth = tinyAuthenticator({ alice: 'secret' });

async function servers(t: import('node:test').TestContext, store: MailStore) {
  const imap = createImapServer({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true });
  const pop3 = createPop3Server({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true, limits: { authFailureDelaySeconds: 0 } });
  const { port: imapPort } = await imap.listen();
  const { port: pop3Port } = await pop3.listen();
  t.after(async () => {
    await pop3.close();
    await imap.close();
    await store.close();
  });
  return { imapPort: imapPort!, pop3Port: pop3Port! };
}

async function imapSizes(port: number): Promise<Array<{ size: number; body: Buffer }>> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const out: Array<{ size: number; body: Buffer }> = [];
    for await (const m of client.fetch('1:*', { size: true, source: true })) out.push({ size: m.size!, body: m.source! });
    return out;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** LIST's figure and the octets RETR sent (unstuffed, without the terminator). */
async function pop3Sizes(port: number): Promise<{ listed: number; sent: number; body: Buffer }> {
  const c = await RawPop3.connect(port);
  await c.greeting;
  await c.cmd('USER alice');
  assert.match(await c.cmd('PASS secret'), /^\+OK/);
  const list = await c.cmd('LIST 1');
  const listed = Number(/^\+OK 1 (\d+)/.exec(list)![1]);
  assert.match(await c.cmd('RETR 1'), /^\+OK/);
  const raw = await c.rawMulti();
  const body = Buffer.from(raw.subarray(0, raw.length - 3).toString('latin1').replace(/^\.\./gm, '.'), 'latin1');
  c.close();
  return { listed, sent: body.length, body };
}

test('a message APPENDed with bare LF is stored with CRLF; RFC822.SIZE, BODY[], LIST and RETR agree', async (t) => {
  const store = new MemoryStore();
  const { imapPort, pop3Port } = await servers(t, store);
  const c = new RawClient(imapPort);
  t.after(() => c.destroy());
  await c.login();
  const bytes = Buffer.from(LF_MESSAGE, 'latin1');
  c.send(`A APPEND INBOX {${bytes.length}}\r\n`);
  await c.expect(/^\+/);
  c.send(Buffer.concat([bytes, Buffer.from('\r\n')]));
  await c.expect(/^A OK/);
  await run(c, 'Z', 'LOGOUT');

  const mail = await store.open('alice');
  const inbox = await mail.get('INBOX');
  const stored = await mail.read(inbox.id, 1);
  assert.equal(stored.toString('latin1'), LF_MESSAGE.replace(/\r?\n|\r/g, '\r\n'));
  await mail.close();

  const [m] = await imapSizes(imapPort);
  assert.equal(m!.body.length, m!.size, 'RFC822.SIZE is the length of BODY[]');
  const pop = await pop3Sizes(pop3Port);
  assert.equal(pop.sent, pop.listed, 'LIST reports what RETR sends');
  assert.equal(pop.listed, m!.size);
});

test('a framework store serving bare LF: the servers normalise on the way out and the sizes agree', async (t) => {
  const raw = Buffer.from(LF_MESSAGE, 'latin1');
  const store = new ArrayStore({ alice: [{ raw, flags: ['\\Seen'] }] });
  const { imapPort, pop3Port } = await servers(t, store);
  const [m] = await imapSizes(imapPort);
  assert.equal(m!.body.toString('latin1'), toCrlf(raw).toString('latin1'), 'BODY[] has CRLF line ends');
  assert.equal(m!.size, m!.body.length, 'RFC822.SIZE is the length of BODY[]');
  const pop = await pop3Sizes(pop3Port);
  assert.equal(pop.listed, pop.sent, 'LIST reports what RETR sends');
  assert.equal(pop.listed, m!.size);
});

test('the normaliser: bare LF and lone CR become CRLF, across chunk boundaries, nothing else changes', async () => {
  const join = async (pieces: string[]) => {
    const out: Buffer[] = [];
    for await (const c of crlfChunks((async function* () { for (const p of pieces) yield Buffer.from(p, 'latin1'); })())) out.push(c);
    return Buffer.concat(out).toString('latin1');
  };
  assert.equal(await join(['a\r', '\nb\n', 'c\r', 'd\r']), 'a\r\nb\r\nc\r\nd\r\n');
  assert.equal(await join(['\n', '\r\n', '\r']), '\r\n\r\n\r\n');
  const same = Buffer.from('x\r\ny\r\n');
  assert.equal(toCrlf(same), same, 'CRLF input is returned as is');
  assert.equal(toCrlf(Buffer.from('no newline')).toString(), 'no newline');
});
