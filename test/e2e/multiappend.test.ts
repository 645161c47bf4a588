/**
 * MULTIAPPEND (RFC 3502) over a socket: a store without appendMany still gives all or none — the
 * messages are added one by one and expunged again when one fails (here: the quota refuses the
 * second) — and with appendMany another session sees the messages arrive together. The grammar
 * and the RFC example are in test/transcripts/multiappend.txt, for every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore, UserMailbox } from '../../src/store/types.js';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';

/** The store with appendMany hidden from its handles. */
function withoutAppendMany(store: MemoryStore): MailStore {
  return new Proxy(store, {
    get(target, p) {
      if (p === 'open') {
        return async (user: string, options?: Parameters<MailStore['open']>[1]) => {
          const handle = await target.open(user, options);
          return new Proxy(handle, {
            get: (h, q) => (q === 'appendMany' ? undefined : (Reflect.get(h, q) as unknown) instanceof Function ? (Reflect.get(h, q) as (...a: unknown[]) => unknown).bind(h) : Reflect.get(h, q)),
            has: (h, q) => q !== 'appendMany' && Reflect.has(h, q),
          }) as UserMailbox;
        };
      }
      const v = Reflect.get(target, p) as unknown;
      return v instanceof Function ? v.bind(target) : v;
    },
  });
}

const two = 'a APPEND INBOX {14+}\r\nSubject: one\r\n {14+}\r\nSubject: two\r\n\r\n';

describe('MULTIAPPEND (RFC 3502) end to end', () => {
  it('a store without appendMany: over quota at the second message, the first is expunged again', async (t) => {
    const base = new MemoryStore();
    const s = await startImapServer({ store: withoutAppendMany(base) });
    t.after(() => s.close());
    await base.setQuota!('alice', { messages: 1 });
    const c = new RawClient(s.port);
    try {
      await c.login();
      c.send(two);
      assert.match(await c.expect(/^a /), /^a NO \[OVERQUOTA\]/);
      assert.match((await run(c, 's', 'STATUS INBOX (MESSAGES UIDNEXT)'))[0]!, /MESSAGES 0 UIDNEXT 2/);
      await base.setQuota!('alice', null);
      c.send(two.replace(/^a /, 'b '));
      assert.match(await c.expect(/^b /), /^b OK \[APPENDUID \d+ 2:3\]/);
    } finally {
      c.destroy();
    }
  });

  it('with appendMany, a session watching the mailbox hears one EXISTS for all of them', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const watcher = new RawClient(s.port);
    const c = new RawClient(s.port);
    try {
      await watcher.login();
      await c.login();
      await run(watcher, 's', 'SELECT INBOX');
      c.send('a APPEND INBOX {14+}\r\nSubject: one\r\n {14+}\r\nSubject: two\r\n {16+}\r\nSubject: three\r\n\r\n');
      assert.match(await c.expect(/^a /), /^a OK \[APPENDUID \d+ 1:3\]/);
      const heard = await run(watcher, 'n', 'NOOP');
      assert.deepEqual(heard.filter((l) => / EXISTS$/.test(l)), ['* 3 EXISTS']);
    } finally {
      watcher.destroy();
      c.destroy();
    }
  });
});
