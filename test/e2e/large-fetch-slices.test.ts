/**
 * A FETCH over a large mailbox is many time slices, not one: a bystander's NOOP is answered while
 * it runs (issue 13: no single command holds the event loop for long).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { NoopProbe } from '../helpers/latency.js';
import { MemoryStore } from '../../src/store/memory/index.js';

const MESSAGES = 30_000;

it(`FETCH 1:* (BODY.PEEK[HEADER]) over ${MESSAGES} messages leaves room for a bystander`, async (t) => {
  const store = new MemoryStore();
  const mail = await store.open('alice');
  const inbox = await mail.get('INBOX');
  for (let i = 0; i < MESSAGES; i++) await mail.append(inbox.id, { content: Buffer.from(`Subject: message ${i}\r\n\r\nbody ${i}\r\n`) });
  await mail.close();
  const s = await startImapServer({ store });
  t.after(async () => {
    await s.close();
    await store.close();
  });
  const other = new RawClient(s.port, { localAddress: '127.0.0.2' });
  await other.login();
  const c = new RawClient(s.port);
  await c.login();
  c.send('s SELECT INBOX\r\n');
  await c.expect(/^s OK/);
  const probe = new NoopProbe(other, 5);
  const started = Date.now();
  c.send('f FETCH 1:* (BODY.PEEK[HEADER] RFC822.SIZE)\r\n');
  assert.match(await c.expect(/^f /, 60_000), /^f OK/);
  const took = Date.now() - started;
  const latency = await probe.stop();
  console.log(`# FETCH of ${MESSAGES} headers took ${took} ms; bystander NOOP max ${latency.max.toFixed(0)} ms over ${latency.samples.length}`);
  // Before, the whole FETCH (about a second here) was one stretch and the bystander waited for it.
  assert.ok(latency.max < 250, `a bystander's NOOP took ${latency.max} ms`);
  other.destroy();
  c.destroy();
});
