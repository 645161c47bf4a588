/**
 * A user reaches only their own mailboxes, in every store: path tricks, NUL and control bytes and
 * over-long names are refused with NO and a reason by every command that takes a name, and bob
 * never sees alice's mailboxes or messages.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories, type MadeStore } from '../helpers/stores.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * Hostile names as IMAP strings (literals where quoting cannot carry the bytes). Raw NUL and
 * control bytes are not modified UTF-7 (RFC 3501 §5.1.3), so the parser answers them with BAD before
 * any store sees them; the same characters encoded in modified UTF-7 reach the store's check (NO).
 */
const RAW_BYTES: Array<[string, string]> = [
  ['raw NUL byte', '{5}\r\na\0b/c'],
  ['raw control character', '{3}\r\na\x01b'],
  ['raw DEL', '{3}\r\na\x7fb'],
];

const HOSTILE: Array<[string, string]> = [
  ['../x', '"../x"'],
  ['INBOX/../../x', '"INBOX/../../x"'],
  ['~alice', '"~alice"'],
  ['~alice/Secret', '"~alice/Secret"'],
  ['/etc/passwd', '"/etc/passwd"'],
  ['NUL in modified UTF-7', '"a&AAA-b"'],
  ['control character in modified UTF-7', '"a&AAE-b"'],
  ['DEL in modified UTF-7', '"a&AH8-b"'],
  ['1,000 characters', `"${'n'.repeat(1000)}"`],
];

const MARKER = 'alice-private-body-7f3a';

for (const [storeName, make] of Object.entries(storeFactories())) {
  describe(`isolation (${storeName})`, () => {
    let made: MadeStore;
    let server: TestServer;
    let alice: RawClient;
    let bob: RawClient;
    let n = 0;

    async function cmd(c: RawClient, text: string): Promise<{ tagged: string; lines: string[] }> {
      const tag = `t${++n}`;
      const start = c.transcript.length;
      // Synchronising literals: send the parts one after the other, waiting for each "+".
      const parts = text.split(/(?<=\}\r\n)/);
      for (let i = 0; i < parts.length; i++) {
        c.send(i === 0 ? `${tag} ${parts[i]}` : parts[i]!);
        if (i < parts.length - 1) {
          const reply = await c.expect(new RegExp(`^(\\+|${tag} )`));
          if (!reply.startsWith('+')) return { tagged: reply, lines: c.transcript.slice(start) };
        }
      }
      c.send('\r\n');
      const tagged = await c.expect(new RegExp(`^${tag} `));
      return { tagged, lines: c.transcript.slice(start) };
    }

    before(async () => {
      made = await make();
      server = await startImapServer({ store: made.store });
      alice = new RawClient(server.port);
      bob = new RawClient(server.port);
      for (const [c, login] of [
        [alice, 'alice secret'],
        [bob, 'bob hunter2'],
      ] as const) {
        await c.expect(/^\* OK/);
        assert.match((await cmd(c, `LOGIN ${login}`)).tagged, /OK/);
      }
      assert.match((await cmd(alice, 'CREATE Secret')).tagged, /OK/);
      const msg = `Subject: private\r\n\r\n${MARKER}\r\n`;
      assert.match((await cmd(alice, `APPEND Secret {${msg.length}}\r\n${msg}`)).tagged, /OK/);
      assert.match((await cmd(alice, `APPEND INBOX {${msg.length}}\r\n${msg}`)).tagged, /OK/);
      assert.match((await cmd(bob, 'APPEND INBOX {21}\r\nSubject: bob\r\n\r\nhi\r\n')).tagged, /OK/);
    });
    after(async () => {
      alice.destroy();
      bob.destroy();
      await server.close();
      await made.cleanup();
    });

    for (const [label, name] of HOSTILE) {
      it(`refuses ${label} with NO and a reason in CREATE, SELECT, RENAME, DELETE, STATUS, APPEND, COPY`, async () => {
        for (const template of ['CREATE %', 'SELECT %', 'EXAMINE %', 'RENAME INBOX %', 'RENAME % y', 'DELETE %', 'STATUS % (MESSAGES)', 'SUBSCRIBE %']) {
          const { tagged } = await cmd(bob, template.replace('%', name));
          assert.match(tagged, /^t\d+ NO .{3,}/, `${template} with ${label}: ${tagged}`);
        }
        const { tagged: append } = await cmd(bob, `APPEND ${name} {3}\r\nx\r\n`);
        assert.match(append, /^t\d+ NO .{3,}/, `APPEND with ${label}: ${append}`);
        assert.match((await cmd(bob, 'SELECT INBOX')).tagged, /OK/);
        const { tagged: copy } = await cmd(bob, `COPY 1:* ${name}`);
        assert.match(copy, /^t\d+ NO .{3,}/, `COPY with ${label}: ${copy}`);
        assert.match((await cmd(bob, 'UNSELECT')).tagged, /OK/);
      });
    }

    for (const [label, name] of RAW_BYTES) {
      it(`refuses a name with a ${label} (BAD: not modified UTF-7) and creates nothing`, async () => {
        for (const template of ['CREATE %', 'SELECT %', 'RENAME INBOX %', 'DELETE %', 'STATUS % (MESSAGES)']) {
          const { tagged } = await cmd(bob, template.replace('%', name));
          assert.match(tagged, /^t\d+ (BAD|NO) .{3,}/, `${template} with ${label}: ${tagged}`);
        }
        const list = await cmd(bob, 'LIST "" "*"');
        assert.ok(!list.lines.some((l) => /[\x00-\x1f\x7f]/.test(l)), JSON.stringify(list.lines));
      });
    }

    it("bob never sees alice's mailboxes or messages", async () => {
      const list = await cmd(bob, 'LIST "" "*"');
      assert.ok(!list.lines.some((l) => /Secret/.test(l)), JSON.stringify(list.lines));
      const other = await cmd(bob, 'LIST "~alice" "*"');
      assert.ok(!other.lines.some((l) => /Secret/.test(l)), JSON.stringify(other.lines));
      assert.match((await cmd(bob, 'SELECT Secret')).tagged, /NO/);
      assert.match((await cmd(bob, 'STATUS Secret (MESSAGES)')).tagged, /NO/);
      const inbox = await cmd(bob, 'SELECT INBOX');
      assert.ok(inbox.lines.includes('* 1 EXISTS'), JSON.stringify(inbox.lines));
      const search = await cmd(bob, `SEARCH BODY ${MARKER}`);
      assert.ok(search.lines.includes('* SEARCH'), JSON.stringify(search.lines));
      const copy = await cmd(bob, 'COPY 1 Secret');
      assert.match(copy.tagged, /NO \[TRYCREATE\]/, 'no COPY into a mailbox of another user');
      const fetch = await cmd(bob, 'UID FETCH 1:* BODY[]');
      assert.ok(!fetch.lines.some((l) => l.includes(MARKER)));
      // And alice's data is still there for her.
      const mine = await cmd(alice, 'STATUS Secret (MESSAGES)');
      assert.ok(mine.lines.some((l) => /MESSAGES 1/.test(l)), JSON.stringify(mine.lines));
      assert.match((await cmd(bob, 'UNSELECT')).tagged, /OK/);
    });
  });
}
