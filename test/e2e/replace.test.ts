/**
 * REPLACE (RFC 8508) end to end: a replacement over 64 KiB streamed like an APPEND message, the
 * old message reported as VANISHED once QRESYNC is on, another session hearing the change, and
 * the rights of a shared mailbox (RFC 8508 with RFC 4314: "i" on the target, "t" and "e" on the
 * source) — refused without them, nothing added or removed. The RFC's examples are in
 * test/transcripts/replace.txt for every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run, sleep, WAIT_MS } from '../helpers/raw-client.js';
import { MemoryStore } from '../../src/store/memory/index.js';

function draft(subject: string, size: number): Buffer {
  const head = Buffer.from(`Subject: ${subject}\r\n\r\n`);
  const out = Buffer.alloc(size, 'y');
  head.copy(out, 0);
  for (let at = head.length + 78; at + 2 <= size; at += 80) out.write('\r\n', at);
  out.write('\r\n', size - 2);
  return out;
}

describe('REPLACE (RFC 8508) end to end', () => {
  it('a streamed replacement, VANISHED under QRESYNC, and another session sees one message go and one come', async (t) => {
    const store = new MemoryStore();
    const s = await startImapServer({ store });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    const watcher = new RawClient(s.port);
    try {
      await c.login();
      await watcher.login();
      await run(c, 'a', 'APPEND INBOX (\\Draft) {16+}\r\nSubject: draft\r\n');
      await run(c, 'e', 'ENABLE QRESYNC');
      await run(c, 's', 'SELECT INBOX');
      await run(watcher, 's', 'SELECT INBOX');
      const body = draft('draft v2', 300_000);
      c.send(`r UID REPLACE 1 INBOX (\\Draft \\Seen) {${body.length}}\r\n`);
      await c.expect(/^\+ /);
      c.send(body);
      c.send('\r\n');
      const lines: string[] = [];
      for (;;) {
        const l = await c.expect(/.*/, 20_000);
        lines.push(l);
        if (l.startsWith('r ')) break;
      }
      assert.match(lines[0]!, /^\* OK \[APPENDUID \d+ 2\] /);
      // RFC 8508 §3.2–3.3 examples: the new message's EXISTS before the old one goes.
      assert.ok(lines.indexOf('* 2 EXISTS') > 0 && lines.indexOf('* 2 EXISTS') < lines.indexOf('* VANISHED 1'), lines.join('\n'));
      assert.match(lines.at(-1)!, /^r OK/);
      const mail = await store.open('alice');
      const inbox = await mail.get('INBOX');
      assert.deepEqual((await mail.snapshot(inbox.id)).messages.map((m) => m.uid), [2]);
      assert.ok((await mail.read(inbox.id, 2)).equals(body));
      await mail.close();
      // The change reaches the watcher's session asynchronously: NOOP until it has been told (a
      // fixed 50 ms can be too short on a loaded machine), for at most WAIT_MS.
      let heard = '';
      const deadline = Date.now() + WAIT_MS;
      for (let n = 0; !(/\* 1 EXPUNGE/.test(heard) && /\* 1 EXISTS/.test(heard)) && Date.now() < deadline; n++) {
        if (n > 0) await sleep(50);
        heard += (await run(watcher, `n${n}`, 'NOOP')).join('\n') + '\n';
      }
      assert.match(heard, /\* 1 EXPUNGE/);
      assert.match(heard, /\* 1 EXISTS/);
    } finally {
      c.destroy();
      watcher.destroy();
    }
  });

  it('shared mailbox: without "t"/"e" on the source REPLACE is NO [NOPERM] and nothing changes; with them it replaces', async (t) => {
    const store = new MemoryStore();
    const s = await startImapServer({ store });
    t.after(() => s.close());
    const alice = await store.open('alice');
    const team = await alice.create('Team');
    await alice.append(team.id, { content: Buffer.from('Subject: shared draft\r\n\r\nv1\r\n'), flags: ['\\Draft'] });
    await alice.setAcl!(team.id, 'bob', 'lrswi');
    const bob = new RawClient(s.port);
    try {
      await bob.expect(/^\* OK/);
      assert.match((await run(bob, 'l', 'LOGIN bob hunter2')).at(-1)!, /^l OK/);
      await run(bob, 's', 'SELECT Shared/alice/Team');
      const refused = await run(bob, 'r', 'REPLACE 1 Shared/alice/Team {29+}\r\nSubject: shared draft\r\n\r\nv2\r\n');
      assert.match(refused.at(-1)!, /^r NO \[NOPERM\]/);
      assert.equal((await alice.snapshot(team.id)).messages.length, 1);
      await alice.setAcl!(team.id, 'bob', 'lrswite');
      await run(bob, 's2', 'SELECT Shared/alice/Team');
      const done = await run(bob, 'r2', 'REPLACE 1 Shared/alice/Team {29+}\r\nSubject: shared draft\r\n\r\nv2\r\n');
      assert.match(done.at(-1)!, /^r2 OK/);
      assert.match(done.join('\n'), /\* 1 EXPUNGE/);
      const left = (await alice.snapshot(team.id)).messages;
      assert.deepEqual(left.map((m) => m.uid), [2]);
      assert.match((await alice.read(team.id, 2)).toString(), /v2/);
    } finally {
      bob.destroy();
      await alice.close();
    }
  });
});
