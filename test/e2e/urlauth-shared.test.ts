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
 *   when it is given back; the owner's RESETKEY revokes it (and tells the reader's session that
 *   has the shared mailbox selected); a reader's RESETKEY of it needs `a` (NO [NOPERM] without).
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
      auth: new StaticAuthenticator({ alice: 'secret', bob: 'hunter2', submitter: 'subpass' }),
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

    it("GENURLAUTH for another user's mailbox shared with r; URLFETCH checks the authorizing user's rights at fetch time", async () => {
      const port = server().port;
      const alice = await loggedIn(port, 'alice', 'secret');
      const bob = await loggedIn(port, 'bob', 'hunter2');
      const bobWatching = await loggedIn(port, 'bob', 'hunter2');
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

        // A reader may not reset the owner's key without a; the owner may.
        assert.match((await run(bob, 'k1', 'RESETKEY Shared/alice/Team')).at(-1)!, /^k1 NO \[NOPERM\]/);
        assert.equal(fetched(await run(submitter, 'f6', `URLFETCH "${url}"`)), 'The attachment text.', 'a refused RESETKEY changes nothing');
        assert.match((await run(bobWatching, 's', 'SELECT Shared/alice/Team')).at(-1)!, /^s OK/);
        assert.match((await run(alice, 'k2', 'RESETKEY Team')).at(-1)!, /^k2 OK \[URLMECH INTERNAL\]/);
        assert.equal(fetched(await run(submitter, 'f7', `URLFETCH "${url}"`)), null, "revoked by the owner's RESETKEY");
        assert.ok((await run(bobWatching, 'n', 'NOOP')).some((l) => URLMECH.test(l)), "the reader's session with the mailbox selected is told");

        // With a, the reader's RESETKEY is the mailbox's: the owner's URLs for it go too.
        const again = generated(await run(bob, 'g3', `GENURLAUTH "${rump}" INTERNAL`));
        const owners = generated(await run(alice, 'g4', 'GENURLAUTH "imap://alice@127.0.0.1/Team/;uid=1/;section=2;urlauth=submit+alice" INTERNAL'));
        assert.equal(fetched(await run(submitter, 'f8', `URLFETCH "${again}"`)), 'The attachment text.');
        assert.equal(fetched(await run(submitter, 'f9', `URLFETCH "${owners}"`)), 'The attachment text.');
        assert.match((await run(alice, 'la', 'SETACL Team bob lra')).at(-1)!, /^la OK/);
        assert.match((await run(bob, 'k3', 'RESETKEY Shared/alice/Team')).at(-1)!, /^k3 OK \[URLMECH INTERNAL\]/);
        assert.equal(fetched(await run(submitter, 'f10', `URLFETCH "${again}"`)), null);
        assert.equal(fetched(await run(submitter, 'f11', `URLFETCH "${owners}"`)), null);
        // bob's RESETKEY without a mailbox removes his own keys only: alice's new URL still reads.
        const later = generated(await run(alice, 'g5', 'GENURLAUTH "imap://alice@127.0.0.1/Team/;uid=1/;section=1;urlauth=submit+alice" INTERNAL'));
        assert.match((await run(bob, 'k4', 'RESETKEY')).at(-1)!, /^k4 OK/);
        assert.equal(fetched(await run(submitter, 'f12', `URLFETCH "${later}"`)), 'first');

        // A URLAUTH URL for the shared mailbox works in the submitter's CATENATE too.
        const forCat = generated(await run(bob, 'g6', `GENURLAUTH "${rump}" INTERNAL`));
        assert.match((await run(submitter, 'cat', `APPEND INBOX CATENATE (URL "${forCat}")`)).at(-1)!, /^cat OK \[APPENDUID/);
      } finally {
        for (const c of [alice, bob, bobWatching, submitter]) c.destroy();
      }
    });
  });
}
