/**
 * CONDSTORE across sessions (RFC 7162 §3.1): imapflow, which turns CONDSTORE on by itself when it is
 * advertised, sees the mod-sequence a flag change made by another client; and the raw lines of
 * Example 14 — the session that changed the flags gets MODSEQ even for .SILENT, a CONDSTORE-aware
 * session hears FLAGS with MODSEQ, a session that never enabled CONDSTORE hears FLAGS alone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

function flow(server: TestServer): ImapFlow {
  return new ImapFlow({
    host: server.host,
    port: server.port,
    secure: false,
    auth: { user: 'alice', pass: 'secret' },
    tls: { rejectUnauthorized: false },
    logger: false,
    disableAutoIdle: true,
  });
}


const modseqIn = (line: string | undefined): number => Number(/MODSEQ \((\d+)\)/.exec(line ?? '')?.[1] ?? NaN);

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`CONDSTORE across sessions (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('imapflow reads msg.modseq and HIGHESTMODSEQ after another client changed a flag', async () => {
      const setup = flow(server());
      await setup.connect();
      await setup.mailboxCreate('Cond');
      await setup.append('Cond', 'Subject: one\r\n\r\nbody\r\n');
      await setup.append('Cond', 'Subject: two\r\n\r\nbody\r\n');

      const watcher = flow(server());
      await watcher.connect();
      try {
        assert.ok(watcher.enabled.has('CONDSTORE'), 'imapflow enabled CONDSTORE');
        const box = await watcher.mailboxOpen('Cond');
        assert.equal(typeof box.highestModseq, 'bigint', 'SELECT reported HIGHESTMODSEQ');
        const before = await watcher.fetchOne('2', { uid: true, flags: true });
        assert.ok(before && typeof before.modseq === 'bigint', 'FETCH carried MODSEQ');
        assert.ok(!before.flags?.has('\\Flagged'));

        const updates: Array<{ uid?: number; modseq?: bigint; flags: Set<string> }> = [];
        watcher.on('flags', (u: { uid?: number; modseq?: bigint; flags: Set<string> }) => updates.push(u));

        await setup.mailboxOpen('Cond');
        await setup.messageFlagsAdd('2', ['\\Flagged']);

        await watcher.noop();
        const pushed = updates.find((u) => u.flags.has('\\Flagged'));
        assert.ok(pushed, 'the unsolicited FETCH reached imapflow');
        assert.ok(pushed.modseq !== undefined && pushed.modseq > before.modseq!, 'with a higher MODSEQ');

        const after = await watcher.fetchOne('2', { uid: true, flags: true });
        assert.ok(after && after.flags?.has('\\Flagged'));
        assert.equal(after.modseq, pushed.modseq, 'msg.modseq is the new mod-sequence');
        const status = await watcher.status('Cond', { highestModseq: true });
        assert.ok(status.highestModseq !== undefined && status.highestModseq >= after.modseq!, 'HIGHESTMODSEQ covers it');

        // Its own change moves the mod-sequence on again. (imapflow 1.0.190 writes UNCHANGEDSINCE
        // after the flags, which RFC 4466 §2.5 does not allow, so conditional STOREs are tested
        // in the transcripts instead.)
        await watcher.messageFlagsAdd('2', ['$Mine']);
        const last = await watcher.fetchOne('2', { flags: true });
        assert.ok(last && last.flags?.has('$Mine'));
        assert.ok(last.modseq! > after.modseq!);
      } finally {
        await watcher.logout();
        await setup.logout();
      }
    });

    it('CHANGEDSINCE and SEARCH MODSEQ find another session\'s change by modseq, with its FLAGS, and only within the set', async () => {
      const one = new RawClient(server().port);
      const two = new RawClient(server().port);
      try {
        for (const c of [one, two]) await c.login();
        // (Session one selects first: the four messages are \\Recent for it.)
        await run(one, 'c', 'CREATE Since');
        for (let i = 0; i < 4; i++) await run(one, `ap${i}`, 'APPEND Since {14+}\r\nSubject: x\r\n\r\n');
        const selected = await run(one, 's', 'SELECT Since (CONDSTORE)');
        const h = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.join('\n'))?.[1]);
        assert.ok(h > 0);
        await run(two, 's2', 'SELECT Since');
        await run(two, 'st', 'UID STORE 2,4 +FLAGS.SILENT ($Other)');
        await run(two, 'st2', 'UID STORE 4 -FLAGS.SILENT ($Other)');

        // UID alone was asked; the flags this session had not heard of come along with it.
        const uidOnly = await run(one, 'f1', `UID FETCH 1:* (UID) (CHANGEDSINCE ${h})`);
        const lines = uidOnly.filter((l) => l.startsWith('* '));
        const two2 = lines.filter((l) => / FETCH \(.*UID 2\b/.test(l));
        assert.ok(two2.length >= 1 && two2.some((l) => l.includes('$Other')), lines.join('\n'));
        assert.ok(lines.some((l) => / FETCH \(.*UID 4\b/.test(l)), 'UID 4 changed twice, listed');
        assert.ok(!lines.some((l) => /UID [13]\b/.test(l)), `unchanged messages left out: ${lines.join(' | ')}`);
        assert.match(uidOnly.at(-1)!, /^f1 OK/);

        const flags = await run(one, 'f2', `UID FETCH 1:* (FLAGS MODSEQ) (CHANGEDSINCE ${h})`);
        assert.match(flags[0]!, /^\* 2 FETCH \(UID 2 FLAGS \(\$Other \\Recent\) MODSEQ \((\d+)\)\)$/);
        assert.match(flags[1]!, /^\* 4 FETCH \(UID 4 FLAGS \(\\Recent\) MODSEQ \((\d+)\)\)$/);
        assert.ok(modseqIn(flags[1]) > modseqIn(flags[0]) && modseqIn(flags[0]) > h);
        assert.match(flags[2]!, /^f2 OK/);

        // The asked order is kept when MODSEQ is not last; a set that names none of them gets none.
        const order = await run(one, 'f3', `FETCH 2 (MODSEQ FLAGS) (CHANGEDSINCE ${h})`);
        assert.equal(order[0], `* 2 FETCH (MODSEQ (${modseqIn(flags[0])}) FLAGS ($Other \\Recent))`);
        const none = await run(one, 'f4', `UID FETCH 1,3 (FLAGS) (CHANGEDSINCE ${h})`);
        assert.deepEqual(none.length, 1);

        const search = await run(one, 'se', `UID SEARCH MODSEQ ${h + 1}`);
        assert.equal(search[0], `* SEARCH 2 4 (MODSEQ ${modseqIn(flags[1])})`);
        const esearch = await run(one, 'se2', `SEARCH RETURN (MIN COUNT) MODSEQ ${modseqIn(flags[1])}`);
        assert.equal(esearch[0], `* ESEARCH (TAG "se2") MIN 4 COUNT 1 MODSEQ ${modseqIn(flags[1])}`);
      } finally {
        for (const c of [one, two]) c.destroy();
      }
    });

    it('Example 14: MODSEQ for the changer and the CONDSTORE-aware session, none for the other', async () => {
      const one = new RawClient(server().port);
      const two = new RawClient(server().port);
      const three = new RawClient(server().port);
      try {
        for (const c of [one, two, three]) await c.login();
        await run(one, 'c', 'CREATE Ex14');
        await run(one, 'ap', 'APPEND Ex14 (\\Answered) {14+}\r\nSubject: x\r\n\r\n');
        await run(one, 'A142', 'SELECT Ex14 (CONDSTORE)');
        await run(two, 'B1', 'ENABLE CONDSTORE');
        const selected = await run(two, 'B2', 'SELECT Ex14');
        assert.ok(selected.some((l) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)));
        const plain = await run(three, 'D1', 'SELECT Ex14');
        assert.ok(!plain.some((l) => l.includes('HIGHESTMODSEQ')), 'not enabled: no HIGHESTMODSEQ');

        const stored = await run(one, 'A160', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
        assert.match(stored[0]!, /^\* 1 FETCH \(MODSEQ \(\d+\)\)$/);
        assert.match(stored[1]!, /^A160 OK/);
        const modseq = modseqIn(stored[0]);

        const heard = await run(two, 'C180', 'NOOP');
        const fetch = heard.find((l) => l.startsWith('* 1 FETCH'));
        assert.match(fetch ?? '', /FLAGS \((?=[^)]*\\Deleted)(?=[^)]*\\Answered)[^)]*\)/);
        assert.equal(modseqIn(fetch), modseq, 'the same mod-sequence as session 1 was told');

        const other = await run(three, 'D210', 'NOOP');
        const fetch3 = other.find((l) => l.startsWith('* 1 FETCH'));
        assert.ok(fetch3 && fetch3.includes('\\Deleted'));
        assert.ok(!fetch3.includes('MODSEQ'), `no MODSEQ without CONDSTORE: ${fetch3}`);

        // Session 3 becomes CONDSTORE-aware with its first enabling command: HIGHESTMODSEQ at once.
        const search = await run(three, 'D220', 'SEARCH MODSEQ 1');
        assert.equal(search[0], `* OK [HIGHESTMODSEQ ${modseq}] Highest`);
        assert.equal(search[1], `* SEARCH 1 (MODSEQ ${modseq})`);
      } finally {
        for (const c of [one, two, three]) c.destroy();
      }
    });
  });
}
