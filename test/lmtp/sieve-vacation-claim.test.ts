/**
 * Vacation's decision at delivery (RFC 5230 §4.2) over real LMTP and a real SMTP relay: an answer
 * the relay refuses gives its claim back, so the sender's next message is answered; a store
 * without vacationClaim (a third-party store) still answers once when deliveries to one user
 * arrive at once in this process (the pipeline serialises its two-call fallback).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSieveFilter } from '../../src/delivery/sieve-filter.js';
import { createMailSender } from '../../src/delivery/sender.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { hasVacationClaim, sieveStorage } from '../../src/store/sieve-storage.js';
import type { MailStore, UserMailbox } from '../../src/store/types.js';
import { startLmtpServer, storedMessages, type TestLmtpServer } from '../helpers/lmtp-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const message = (from: string, subject: string): Buffer =>
  Buffer.from(`From: ${from}\r\nTo: carol@mx.test\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random()}@remote.test>\r\n\r\nHello.\r\n`);

/**
 * The store with handles that lack vacationClaim/vacationRelease, as a store written before them;
 * its look-up takes a database's round trip, so deliveries at once really overlap in the fallback.
 */
function withoutClaim(store: MemoryStore): MailStore {
  const outer = Object.create(store) as MailStore;
  outer.open = async (user, options) => {
    const inner = sieveStorage(await store.open(user, options));
    const handle = Object.create(inner) as UserMailbox;
    Object.assign(handle, {
      vacationClaim: undefined,
      vacationRelease: undefined,
      vacationAnswered: async (handle: string, address: string, now: Date) => {
        const answered = await inner.vacationAnswered(handle, address, now);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the reply on its way back
        return answered;
      },
    });
    return handle;
  };
  return outer;
}

for (const kind of ['claiming', 'without vacationClaim'] as const) {
  describe(`vacation at delivery, store ${kind}`, () => {
    let memory: MemoryStore;
    let store: MailStore;
    let lmtp: TestLmtpServer;
    let relay: SmtpSink;

    before(async () => {
      relay = await startSmtpSink();
      const relayPort = relay.port;
      memory = new MemoryStore();
      store = kind === 'claiming' ? memory : withoutClaim(memory);
      lmtp = await startLmtpServer({ store, filter: createSieveFilter({ sender: createMailSender(`smtp://127.0.0.1:${relayPort}`), hostname: 'mx.test' }) });
      const mail = await store.open('carol');
      assert.equal(hasVacationClaim(sieveStorage(mail)), kind === 'claiming');
      await sieveStorage(mail).sievePut('away', 'require "vacation"; vacation :days 3 :handle "away" :subject "Away" "Back soon.";');
      await sieveStorage(mail).sieveSetActive('away');
      await mail.close();
    });
    after(async () => {
      await lmtp.close();
      await memory.close();
      await relay.close();
    });

    async function deliver(from: string, subject: string): Promise<void> {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      try {
        const r = await client.send(from, [{ address: 'carol@mx.test' }], message(from, subject));
        assert.equal(r.delivery[0]?.code, 250, r.delivery[0]?.text);
      } finally {
        await client.quit().catch(() => undefined);
      }
    }

    it('an answer the relay refuses is not remembered: the next message is answered, once', async () => {
      relay.refuseOnce.add('late@remote.test');
      await deliver('late@remote.test', 'first');
      assert.deepEqual(relay.recipients, [], 'the relay refused the first answer');
      const mail = await store.open('carol');
      assert.equal(await sieveStorage(mail).vacationAnswered('away', 'late@remote.test', new Date()), false, 'the claim was given back');
      await mail.close();
      await deliver('late@remote.test', 'second');
      await deliver('late@remote.test', 'third');
      assert.deepEqual(relay.recipients, ['late@remote.test']);
      assert.equal((await storedMessages(memory, 'carol')).length, 3, 'every message kept');
    });

    it('eight deliveries from one sender at once (eight LMTP clients): one answer', async () => {
      const before = relay.recipients.length;
      await Promise.all(Array.from({ length: 8 }, (_, i) => deliver('pal@remote.test', `at once ${i}`)));
      assert.deepEqual(relay.recipients.slice(before), ['pal@remote.test']);
    });
  });
}
