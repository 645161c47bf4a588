/**
 * An EXPUNGE with nothing \Deleted in a large SQLite mailbox: its chunks are answered by a read
 * (sqlite/message-writes.ts anyDeleted) that awaits nothing but a resolved promise, and expunge.ts
 * drains only before a chunk with known work — unless a time slice of such chunks has gone by. Without
 * that, the whole mailbox was looked up in one stretch of the event loop (87 ms of CPU at 200,000
 * messages; found by review). MESSAGES_FOR_STALL_TEST sets the mailbox size.
 */
import { describe, it, before, after } from 'node:test';
import { startStallServer, type StallServer } from '../helpers/stall-server.js';
import { measuredCommand } from '../helpers/stall-measure.js';
import { RawClient } from '../helpers/raw-client.js';

const MESSAGES = Number(process.env.MESSAGES_FOR_STALL_TEST ?? 200_000);
/** big-writes-slices.test.ts's bound for EXPUNGE. */
const MAX_EXPUNGE_STALL_CPU_MS = 50;

describe(`EXPUNGE with nothing \\Deleted over ${MESSAGES} messages (SQLite)`, () => {
  let server: StallServer;
  let c: RawClient;
  let other: RawClient;
  before(async () => {
    server = await startStallServer({ store: 'sqlite', seed: { alice: MESSAGES } });
    other = new RawClient(server.port, { localAddress: '127.0.0.2' });
    await other.login();
    c = new RawClient(server.port);
    await c.login();
    c.send('s SELECT INBOX\r\n');
    await c.expect(/^s OK/, 60_000);
  });
  after(async () => {
    c.destroy();
    other.destroy();
    await server.close();
  });
  it('leaves room for other sessions', async () => {
    await measuredCommand(server, c, other, 'EXPUNGE', MAX_EXPUNGE_STALL_CPU_MS);
    await measuredCommand(server, c, other, 'UID EXPUNGE 1:*', MAX_EXPUNGE_STALL_CPU_MS);
  });
});
