/**
 * RFC 9208 quotas over real sockets, on every store: twenty IMAP clients APPENDing at once never
 * pass the limit and every acknowledged message is there; LMTP refuses a message that does not fit
 * after DATA and a full mailbox at RCPT, both 452 4.2.2; only administrators SETQUOTA; the
 * default limits (users file, config) apply until the store has the user's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LmtpClient } from '../../src/lmtp/client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { startImapServer } from '../helpers/imap-server.js';
import { startLmtpServer, storedMessages } from '../helpers/lmtp-server.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { storeFactories } from '../helpers/stores.js';
import { userQuota, configuredQuota, parseSize } from '../../src/cli/quota-defaults.js';

const tagged = (lines: string[]): string => lines[lines.length - 1]!;

function message(n: number, octets: number): string {
  const head = `Subject: racer ${n}\r\n\r\n`;
  return head + 'x'.repeat(octets - head.length - 2) + '\r\n';
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`quota over the wire (${storeName} store)`, () => {
    it('twenty clients APPENDing at once: exactly as many as fit are acknowledged, all of them stored, the rest NO [OVERQUOTA]', async (t) => {
      const made = await factory();
      const server = await startImapServer({ store: made.store });
      t.after(async () => {
        await server.close();
        await made.cleanup();
      });
      const octets = 500;
      await made.store.setQuota!('alice', { storage: 7 * octets + octets / 2, messages: 1000 });
      const clients = Array.from({ length: 20 }, () => new RawClient(server.port));
      t.after(() => clients.forEach((c) => c.destroy()));
      await Promise.all(clients.map((c) => c.login()));
      const replies = await Promise.all(
        clients.map((c, i) => {
          const body = message(i, octets);
          return run(c, `r${i}`, `APPEND INBOX {${body.length}+}\r\n${body}`);
        }),
      );
      const ok = replies.map(tagged).filter((l) => / OK \[APPENDUID /.test(l));
      const refused = replies.map(tagged).filter((l) => / NO \[OVERQUOTA\] /.test(l));
      assert.equal(ok.length, 7, replies.map(tagged).join('\n'));
      assert.equal(refused.length, 13, replies.map(tagged).join('\n'));
      // Every acknowledged UID is in the mailbox, and nothing else.
      const acknowledged = ok.map((l) => Number(/APPENDUID \d+ (\d+)\]/.exec(l)![1])).sort((a, b) => a - b);
      const mail = await made.store.open('alice');
      const inbox = await mail.get('INBOX');
      assert.deepEqual(
        (await mail.snapshot(inbox.id)).messages.map((m) => m.uid),
        acknowledged,
      );
      // STATUS SIZE and the quota figures agree (STORAGE in KiB, rounded down).
      const c = clients[0]!;
      const status = await run(c, 's1', 'STATUS INBOX (MESSAGES SIZE)');
      assert.ok(status.includes(`* STATUS INBOX (MESSAGES 7 SIZE ${7 * octets})`), status.join('\n'));
      const quota = await run(c, 'q1', 'GETQUOTAROOT INBOX');
      assert.ok(quota.includes(`* QUOTA "" (STORAGE ${Math.floor((7 * octets) / 1024)} ${Math.ceil((7.5 * octets) / 1024)} MESSAGE 7 1000)`), quota.join('\n'));
      await mail.close();
    });

    it("a MOVE into another user's shared mailbox counts against the owner's quota: NO [OVERQUOTA], nothing moved", async (t) => {
      const made = await factory();
      const server = await startImapServer({ store: made.store });
      t.after(async () => {
        await server.close();
        await made.cleanup();
      });
      const owner = await made.store.open('alice');
      t.after(() => owner.close());
      const team = await owner.create('Team');
      await owner.setAcl!(team.id, 'bob', 'lrswipkxte');
      await owner.append((await owner.get('INBOX')).id, { content: Buffer.from(message(0, 200)) });
      await made.store.setQuota!('alice', { messages: 1 }); // alice is at her limit
      const bob = new RawClient(server.port);
      t.after(() => bob.destroy());
      await bob.login('bob', 'hunter2');
      const body = message(1, 200);
      assert.match(tagged(await run(bob, 'a', `APPEND INBOX {${body.length}+}\r\n${body}`)), /^a OK/);
      await run(bob, 's', 'SELECT INBOX');
      assert.match(tagged(await run(bob, 'm', 'MOVE 1 Shared/alice/Team')), /^m NO \[OVERQUOTA\]/);
      assert.ok((await run(bob, 'st', 'STATUS INBOX (MESSAGES)')).includes('* STATUS INBOX (MESSAGES 1)'));
      assert.equal((await owner.status(team.id)).messages, 0);
      // Room again: the same MOVE goes through, into alice's quota.
      await made.store.setQuota!('alice', { messages: 2 });
      assert.match(tagged(await run(bob, 'm2', 'MOVE 1 Shared/alice/Team')), /^m2 OK/);
      assert.equal((await owner.status(team.id)).messages, 1);
      assert.equal((await made.store.getQuota!('alice')).usage.messages, 2);
    });

    it('LMTP: a message that does not fit is 452 4.2.2 after DATA; a full mailbox is 452 4.2.2 at RCPT; others still get theirs', async (t) => {
      const made = await factory();
      const lmtp = await startLmtpServer({ store: made.store });
      t.after(async () => {
        await lmtp.close();
        await made.cleanup();
      });
      await made.store.setQuota!('ann', { storage: 1000 });
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      t.after(() => client.quit());
      const small = Buffer.from(message(1, 600));
      const first = await client.send('s@example.org', [{ address: 'ann@example.org' }], small);
      assert.equal(first.delivery[0]?.code, 250);
      // 600 + 600 > 1000: refused after DATA, for ann only.
      const second = await client.send('s@example.org', [{ address: 'ann@example.org' }, { address: 'bob@example.org' }], small);
      assert.deepEqual([second.rcpt[0]?.code, second.rcpt[1]?.code], [250, 250]);
      assert.equal(second.delivery[0]?.code, 452);
      assert.equal(second.delivery[0]?.enhanced, '4.2.2');
      assert.equal(second.delivery[1]?.code, 250);
      // Exactly full: the next transaction is refused at RCPT, before the message is sent.
      await made.store.setQuota!('ann', { storage: 600 });
      const third = await client.send('s@example.org', [{ address: 'ann@example.org' }, { address: 'bob@example.org' }], small);
      assert.equal(third.rcpt[0]?.code, 452);
      assert.equal(third.rcpt[0]?.enhanced, '4.2.2');
      assert.equal(third.delivery[1]?.code, 250);
      assert.equal((await storedMessages(made.store, 'ann')).length, 1);
      assert.equal((await storedMessages(made.store, 'bob')).length, 2);
    });
  });
}

describe('quota administration', () => {
  it('only administrators SETQUOTA; to others another user\'s root does not exist; SETQUOTA replaces every limit', async (t) => {
    const store = new MemoryStore({ quotaDefaults: (user) => (user === 'bob' ? { messages: 10 } : {}) });
    const server = await startImapServer({ store, administrators: ['alice'] });
    t.after(() => server.close());
    const bob = new RawClient(server.port);
    t.after(() => bob.destroy());
    await bob.expect(/^\* OK/);
    await run(bob, 'l', 'LOGIN bob hunter2');
    assert.ok((await run(bob, 'g0', 'GETQUOTA ""')).includes('* QUOTA "" (MESSAGE 0 10)'));
    assert.match(tagged(await run(bob, 'g1', 'SETQUOTA "" (STORAGE 10)')), /^g1 NO \[NOPERM\]/);
    assert.match(tagged(await run(bob, 'g2', 'GETQUOTA "#user/alice"')), /^g2 NO \[NONEXISTENT\] No such quota root$/);
    assert.match(tagged(await run(bob, 'g3', 'SETQUOTA "#user/alice" (STORAGE 10)')), /^g3 NO \[NONEXISTENT\] No such quota root$/);
    assert.equal((await store.getQuota('bob')).source, 'default');

    const alice = new RawClient(server.port);
    t.after(() => alice.destroy());
    await alice.login();
    const set = await run(alice, 's1', 'SETQUOTA "#user/bob" (STORAGE 100)');
    assert.ok(set.includes('* QUOTA "#user/bob" (STORAGE 0 100)'), set.join('\n'));
    // The MESSAGE default no longer applies: the store's limits replace them all (RFC 9208 §4.1.3).
    assert.deepEqual(await store.getQuota('bob'), { usage: { storage: 0, messages: 0 }, limits: { storage: 102400 }, source: 'store' });
    assert.ok((await run(bob, 'g4', 'GETQUOTA ""')).includes('* QUOTA "" (STORAGE 0 100)'));
  });

  it('default limits: the users file fields over the quota setting, 0 meaning unlimited, bad fields ignored', () => {
    assert.equal(parseSize('1G'), 1024 ** 3);
    assert.equal(parseSize('500M'), 500 * 1024 ** 2);
    assert.equal(parseSize('64k'), 65536);
    assert.equal(parseSize('1234'), 1234);
    assert.throws(() => parseSize('lots'));
    const base = configuredQuota({ storage: 1000, messages: 0 });
    assert.deepEqual(base, { storage: 1000 });
    assert.throws(() => configuredQuota({ mailboxes: 3 }), /unknown quota resource/);
    assert.deepEqual(userQuota(['quota_storage=2k', 'quota_messages=50'], base), { storage: 2048, messages: 50 });
    assert.deepEqual(userQuota(['quota_storage=0'], base), {});
    assert.deepEqual(userQuota(['quota_storage=huge', 'quota_messages=5x', 'scram-sha-256=abc'], base), { storage: 1000 });
  });
});
