/**
 * URLAUTH (RFC 4467) beyond the user's own mail, on every store, over real sockets:
 *
 * - URLMECH (§7 RESETKEY): another session of the user with the mailbox selected gets an untagged
 *   `* OK [URLMECH INTERNAL]` — after its next command, and pushed while it IDLEs; a session with
 *   another mailbox selected, or none, gets nothing; the session that ran RESETKEY only its tagged
 *   OK. RESETKEY without a mailbox tells every session with one of the user's mailboxes selected.
 * - GENURLAUTH for a mailbox another user shares (§7: "any message the user can read"): with the
 *   `r` right it is made; without, BAD. URLFETCH by the submission user reads it with the
 *   authorizing user's rights at fetch time: NIL once the owner takes `r` away, readable again
 *   when it is given back. Keys are per user and mailbox (§2.2): the URL is made with the reader's
 *   own key, so the owner's RESETKEY leaves it alone and the reader's (which needs `r` only)
 *   revokes the reader's URLs only — the owner's and another reader's still read; a wrong key's
 *   token is NIL; URLMECH goes to the sessions of the user whose key it was.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { loggedIn, run, type RawClient } from '../helpers/raw-client.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { fetched, generated } from '../helpers/urlauth.js';

const MESSAGE = 'Subject: shared\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe attachment text.\r\n--b--\r\n';

const URLMECH = /^\* OK \[URLMECH INTERNAL\]/;

async function append(c: RawClient, tag: string, mailbox: string): Promise<void> {
  c.send(`${tag} APPEND ${mailbox} {${MESSAGE.length}+}\r\n${MESSAGE}\r\n`);
  assert.match(await c.expect(new RegExp(`^${tag} `)), new RegExp(`^${tag} OK`));
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`URLAUTH: URLMECH to other sessions and URLs for shared mailboxes (${storeName} store)`, () => {
    const server = serverForSuite(factory, {
      urlauthSubmitUsers: ['submitter'],
      auth: new StaticAuthenticator({ alice: 'secret', bob: 'hunter2', carol: 'pass3', submitter: 'subpass' }),
    });

    it('RESETKEY tells the other sessions that have the mailbox selected, by NOOP and during IDLE', async () => {
      const port = server().port;
      const [resetter, selected, idler, elsewhere, unselected] = await Promise.all([
        loggedIn(port, 'alice', 'secret'),
        loggedIn(port, 'alice', 'secret'),
        loggedIn(port, 'alice', 'secret'),
        loggedIn(port, 'alice', 'secret'),
        loggedIn(port, 'alice', 'secret'),
      ]);
      try {
        assert.match((await run(resetter, 'c', 'CREATE Other')).at(-1)!, /^c OK/);
        for (const [c, box] of [[resetter, 'INBOX'], [selected, 'INBOX'], [idler, 'INBOX'], [elsewhere, 'Other']] as const) {
          const sel = await run(c, 's', `SELECT ${box}`);
          assert.match(sel.at(-1)!, /^s OK/);
          assert.ok(!sel.some((l) => URLMECH.test(l)), 'SELECT sends no URLMECH (as Dovecot)');
        }
        idler.send('i IDLE\r\n');
        await idler.expect(/^\+ /);

        const reset = await run(resetter, 'r1', 'RESETKEY INBOX');
        assert.match(reset.at(-1)!, /^r1 OK \[URLMECH INTERNAL\]/);
        assert.ok(!reset.some((l) => URLMECH.test(l)), 'the session that reset the key has it in its tagged OK only');
        // Pushed to the idling session (RFC 2177: untagged responses while idling).
        assert.match(await idler.expect(URLMECH), URLMECH);
        const noop = await run(selected, 'n1', 'NOOP');
        assert.ok(noop.some((l) => URLMECH.test(l)), noop.join('\n'));
        assert.ok(!(await run(elsewhere, 'n2', 'NOOP')).some((l) => URLMECH.test(l)), 'another mailbox selected: nothing');
        assert.ok(!(await run(unselected, 'n3', 'NOOP')).some((l) => URLMECH.test(l)), 'no mailbox selected: nothing');
        assert.ok(!(await run(resetter, 'n4', 'NOOP')).some((l) => URLMECH.test(l)), 'the resetter is not told twice');
        // Told once: a second NOOP says nothing more.
        assert.ok(!(await run(selected, 'n5', 'NOOP')).some((l) => URLMECH.test(l)));

        // Without a mailbox every key goes: every other session with a mailbox selected is told.
        assert.match((await run(resetter, 'r2', 'RESETKEY')).at(-1)!, /^r2 OK All keys removed/);
        assert.match(await idler.expect(URLMECH), URLMECH);
        assert.ok((await run(selected, 'n6', 'NOOP')).some((l) => URLMECH.test(l)));
        assert.ok((await run(elsewhere, 'n7', 'NOOP')).some((l) => URLMECH.test(l)));
        assert.ok(!(await run(unselected, 'n8', 'NOOP')).some((l) => URLMECH.test(l)));
        idler.send('DONE\r\n');
        assert.match(await idler.expect(/^i /), /^i OK/);
      } finally {
        for (const c of [resetter, selected, idler, elsewhere, unselected]) c.destroy();
      }
    });

    it("GENURLAUTH for another user's mailbox shared with r, with that user's own key; URLFETCH checks the authorizing user's rights at fetch time", async () => {
      const port = server().port;
      const alice = await loggedIn(port, 'alice', 'secret');
      const bob = await loggedIn(port, 'bob', 'hunter2');
      const bobWatching = await loggedIn(port, 'bob', 'hunter2');
      const aliceWatching = await loggedIn(port, 'alice', 'secret');
      const carol = await loggedIn(port, 'carol', 'pass3');
      const submitter = await loggedIn(port, 'submitter', 'subpass');
      try {
        assert.match((await run(alice, 'c', 'CREATE Team')).at(-1)!, /^c OK/);
        await append(alice, 'a', 'Team');
        const rump = 'imap://bob@127.0.0.1/Shared/alice/Team/;uid=1/;section=2;urlauth=submit+bob';

        // Only l: the mailbox is visible but not readable — no URL for it.
        assert.match((await run(alice, 'l', 'SETACL Team bob l')).at(-1)!, /^l OK/);
        assert.match((await run(bob, 'g0', `GENURLAUTH "${rump}" INTERNAL`)).at(-1)!, /^g0 BAD/);
        // Nothing shared under that name at all: the same BAD.
        assert.match((await run(bob, 'g1', 'GENURLAUTH "imap://bob@127.0.0.1/Shared/alice/Nothing/;uid=1;urlauth=submit+bob" INTERNAL')).at(-1)!, /^g1 BAD/);

        assert.match((await run(alice, 'lr', 'SETACL Team bob lr')).at(-1)!, /^lr OK/);
        const url = generated(await run(bob, 'g2', `GENURLAUTH "${rump}" INTERNAL`));
        assert.match(url, /;urlauth=submit\+bob:internal:01[0-9a-f]{40}$/);
        assert.equal(fetched(await run(submitter, 'f1', `URLFETCH "${url}"`)), 'The attachment text.');
        // bob himself may fetch his own URL? submit+bob admits only submission users (§3).
        assert.equal(fetched(await run(bob, 'f2', `URLFETCH "${url}"`)), null);
        // The URL names bob: it is not alice's, and it does not read as alice.
        assert.equal(fetched(await run(submitter, 'f3', `URLFETCH "${url.replace('imap://bob@', 'imap://alice@')}"`)), null);

        // bob loses r: NIL; r back: the same URL reads again (the key did not change).
        assert.match((await run(alice, 'l2', 'SETACL Team bob l')).at(-1)!, /^l2 OK/);
        assert.equal(fetched(await run(submitter, 'f4', `URLFETCH "${url}"`)), null, 'no r at fetch time: NIL');
        assert.match((await run(alice, 'lr2', 'SETACL Team bob lr')).at(-1)!, /^lr2 OK/);
        assert.equal(fetched(await run(submitter, 'f5', `URLFETCH "${url}"`)), 'The attachment text.');

        // Keys are per user and mailbox (RFC 4467 §2.2): the owner's RESETKEY replaces the owner's
        // key only — bob's URL still reads, and bob's session with Team selected is not told.
        const owners = generated(await run(alice, 'g3', 'GENURLAUTH "imap://alice@127.0.0.1/Team/;uid=1/;section=2;urlauth=submit+alice" INTERNAL'));
        assert.equal(fetched(await run(submitter, 'f6', `URLFETCH "${owners}"`)), 'The attachment text.');
        assert.match((await run(bobWatching, 's', 'SELECT Shared/alice/Team')).at(-1)!, /^s OK/);
        assert.match((await run(aliceWatching, 's', 'SELECT Team')).at(-1)!, /^s OK/);
        assert.match((await run(alice, 'k1', 'RESETKEY Team')).at(-1)!, /^k1 OK \[URLMECH INTERNAL\]/);
        assert.equal(fetched(await run(submitter, 'f7', `URLFETCH "${owners}"`)), null, "the owner's URL is revoked by the owner's RESETKEY");
        assert.equal(fetched(await run(submitter, 'f8', `URLFETCH "${url}"`)), 'The attachment text.', "bob's URL is made with bob's key");
        assert.ok(!(await run(bobWatching, 'n1', 'NOOP')).some((l) => URLMECH.test(l)), "the owner's key is none of bob's sessions' business");
        assert.ok((await run(aliceWatching, 'n2', 'NOOP')).some((l) => URLMECH.test(l)), "the owner's other session is told");

        // A second reader has a key of her own: carol's URL for the same part is another token.
        assert.match((await run(alice, 'lc', 'SETACL Team carol lr')).at(-1)!, /^lc OK/);
        const rumpCarol = rump.replace('imap://bob@', 'imap://carol@').replace('submit+bob', 'submit+carol');
        const carols = generated(await run(carol, 'g4', `GENURLAUTH "${rumpCarol}" INTERNAL`));
        assert.equal(fetched(await run(submitter, 'f9', `URLFETCH "${carols}"`)), 'The attachment text.');
        const token = (u: string): string => u.slice(u.lastIndexOf(':') + 1);
        assert.notEqual(token(carols), token(url), 'another key, another token');
        // A URL with a wrong key's token is refused: carol's token on bob's URL, or one digit changed.
        assert.equal(fetched(await run(submitter, 'f10', `URLFETCH "${url.slice(0, -40) + token(carols).slice(-40)}"`)), null);
        const flipped = url.slice(0, -1) + (url.endsWith('0') ? '1' : '0');
        assert.equal(fetched(await run(submitter, 'f11', `URLFETCH "${flipped}"`)), null);

        // A reader's RESETKEY of the shared mailbox needs r only and replaces the reader's key: bob's
        // URL goes, carol's and the owner's new one stay; bob's session with it selected is told,
        // alice's is not.
        const owners2 = generated(await run(alice, 'g5', 'GENURLAUTH "imap://alice@127.0.0.1/Team/;uid=1/;section=1;urlauth=submit+alice" INTERNAL'));
        const reset = await run(bob, 'k2', 'RESETKEY Shared/alice/Team');
        assert.match(reset.at(-1)!, /^k2 OK \[URLMECH INTERNAL\]/);
        assert.equal(fetched(await run(submitter, 'f12', `URLFETCH "${url}"`)), null, "bob's RESETKEY revokes bob's URL");
        assert.equal(fetched(await run(submitter, 'f13', `URLFETCH "${carols}"`)), 'The attachment text.', "carol's URL stays");
        assert.equal(fetched(await run(submitter, 'f14', `URLFETCH "${owners2}"`)), 'first', "the owner's URL stays");
        assert.ok((await run(bobWatching, 'n3', 'NOOP')).some((l) => URLMECH.test(l)), "bob's session with the mailbox selected is told");
        assert.ok(!(await run(aliceWatching, 'n4', 'NOOP')).some((l) => URLMECH.test(l)), "bob's key is none of alice's sessions' business");

        // bob's RESETKEY without a mailbox removes every key bob holds, his key of alice's Team too;
        // the others' URLs still read.
        const again = generated(await run(bob, 'g6', `GENURLAUTH "${rump}" INTERNAL`));
        assert.equal(fetched(await run(submitter, 'f15', `URLFETCH "${again}"`)), 'The attachment text.');
        assert.match((await run(bob, 'k3', 'RESETKEY')).at(-1)!, /^k3 OK/);
        assert.equal(fetched(await run(submitter, 'f16', `URLFETCH "${again}"`)), null);
        assert.equal(fetched(await run(submitter, 'f17', `URLFETCH "${carols}"`)), 'The attachment text.');
        assert.equal(fetched(await run(submitter, 'f18', `URLFETCH "${owners2}"`)), 'first');
        assert.ok((await run(bobWatching, 'n5', 'NOOP')).some((l) => URLMECH.test(l)), "bob's session of alice's mailbox is told");

        // A URLAUTH URL for the shared mailbox works in the submitter's CATENATE too.
        const forCat = generated(await run(bob, 'g6', `GENURLAUTH "${rump}" INTERNAL`));
        assert.match((await run(submitter, 'cat', `APPEND INBOX CATENATE (URL "${forCat}")`)).at(-1)!, /^cat OK \[APPENDUID/);
      } finally {
        for (const c of [alice, bob, bobWatching, aliceWatching, carol, submitter]) c.destroy();
      }
    });
  });
}
