/**
 * Vacation answers once across nodes (RFC 5230 §4.2): two `postroom serve --store postgres` nodes on
 * one database, mail from the same sender delivered to one user through both nodes' LMTP at once.
 * The decision is one statement in the database (vacationClaim), so exactly one answer reaches the
 * relay per sender, however the deliveries interleave; each message is kept.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LmtpClient } from '../../src/lmtp/client.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { storedMessages } from '../helpers/lmtp-server.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { nodeDataDir, startServeNode, type ServeNode } from '../helpers/serve-node.js';

const message = (from: string, subject: string): Buffer =>
  Buffer.from(`From: ${from}\r\nTo: alice@mx.test\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random()}@remote.test>\r\n\r\nHello.\r\n`);

describe('vacation on two postroom nodes over one PostgreSQL database', { timeout: 240_000 }, () => {
  const nodes: ServeNode[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  let relay: SmtpSink;
  let store: PostgresStore;

  before(async () => {
    relay = await startSmtpSink();
    const relayPort = relay.port;
    const url = await testDatabaseUrl();
    const dirs = await Promise.all([nodeDataDir(), nodeDataDir()]);
    cleanups.push(...dirs.map((d) => d.remove));
    const args = ['--store', 'postgres', '--database-url', url, '--lmtp-port', 'auto', '--sieve-relay', `smtp://127.0.0.1:${relayPort}`, '--hostname', 'mx.test'];
    nodes.push(...(await Promise.all(dirs.map((d) => startServeNode(args, d.dir)))));
    store = await PostgresStore.open({ connectionString: url, poolSize: 2 });
    const mail = await store.open('alice');
    await sieveStorage(mail).sievePut('away', 'require "vacation"; vacation :days 3 :subject "Away" "Back on Monday.";');
    await sieveStorage(mail).sieveSetActive('away');
    await mail.close();
  });

  after(async () => {
    await store?.close();
    for (const n of nodes) assert.equal(await n.stop(), 0, n.stderr());
    for (const c of cleanups) await c();
    await relay?.close();
  });

  const lmtpPort = (node: ServeNode): number => (node.listening as { lmtpPort: number }).lmtpPort;

  async function deliver(node: ServeNode, from: string, subject: string): Promise<void> {
    const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtpPort(node) });
    try {
      const r = await client.send(from, [{ address: 'alice@mx.test' }], message(from, subject));
      assert.equal(r.delivery[0]?.code, 250, r.delivery[0]?.text);
    } finally {
      await client.quit().catch(() => undefined);
    }
  }

  it('the same sender through both nodes at once, five senders in turn: one answer each', async () => {
    const senders = ['s1', 's2', 's3', 's4', 's5'].map((s) => `${s}@remote.test`);
    for (const from of senders) {
      // Four deliveries at once, two through each node.
      await Promise.all([0, 1, 2, 3].map((i) => deliver(nodes[i % 2]!, from, `at once ${i}`)));
    }
    // Answers are sent before LMTP's reply (the pipeline awaits deferred effects), so all are in.
    assert.deepEqual([...relay.recipients].sort(), senders, JSON.stringify(relay.recipients));
    assert.equal((await storedMessages(store, 'alice')).length, senders.length * 4, 'every message kept');
    assert.deepEqual(
      nodes.map((n) => /vacation answer could not be sent|vacation not sent/.test(n.stderr())),
      [false, false],
      nodes.map((n) => n.stderr()).join('\n'),
    );
  });
});
