/**
 * A FETCH over a large mailbox is many time slices, not one: a bystander's NOOP is answered while
 * it runs (issue 13: no single command holds the event loop for long).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { NoopProbe } from '../helpers/latency.js';
import { servedTime } from '../helpers/served-time.js';
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
  const { served: took, wall } = await servedTime(async () => {
    c.send('f FETCH 1:* (BODY.PEEK[HEADER] RFC822.SIZE)\r\n');
    assert.match(await c.expect(/^f /, 60_000), /^f OK/);
  });
  const latency = await probe.stop();
  const waited = latency.served.max;
  console.log(
    `# FETCH of ${MESSAGES} headers took ${took.toFixed(0)} ms served (${wall.toFixed(0)} ms as seen); ` +
      `bystander NOOP max ${waited.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen) over ${latency.samples.length}`,
  );
  // Served times (served-time.ts): less what the machine's other load kept this process off the
  // CPU, which at a load of 20 made a sliced FETCH's bystander wait 374 ms as seen (60 ms served).
  // Unsliced, the FETCH is one stretch and the bystander waits for most of it: 125-420 ms served at
  // a load of 20 on today's code (it was about a second when this test was written), so beside the
  // absolute bound the wait must be under half of the FETCH's own time (sliced: 0.23 of it at a
  // load of 22; one stretch: 0.93-0.98).
  assert.ok(waited < 250, `a bystander's NOOP took ${waited.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen)`);
  assert.ok(waited < took / 2, `a bystander's NOOP waited ${waited.toFixed(0)} ms of the FETCH's ${took.toFixed(0)} ms (served): one stretch, not slices`);
  other.destroy();
  c.destroy();
});
