/**
 * SORT and THREAD end to end on both stores: Python's imaplib (IMAP4.sort, IMAP4.thread) and
 * imapflow — which has no SORT or THREAD method, so its command channel (exec) carries them and
 * its parser reads the answers — and RFC 5267 UPDATE contexts told of what another session does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { serverForSuite, startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

const script = fileURLToPath(new URL('./python/imaplib_sort_thread.py', import.meta.url));

function message(subject: string, date: string, id: string, refs: string[] = []): Buffer {
  const references = refs.length ? `References: ${refs.map((r) => `<${r}>`).join(' ')}\r\n` : '';
  return Buffer.from(`From: someone@example.org\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <${id}>\r\n${references}\r\nbody\r\n`);
}

interface Attr {
  type?: string;
  value?: unknown;
}

/** imapflow's parsed attributes as plain numbers and nested arrays (THREAD lists stay nested). */
function plain(attrs: unknown): unknown {
  if (Array.isArray(attrs)) return attrs.map(plain);
  const a = attrs as Attr;
  return typeof a.value === 'string' && /^\d+$/.test(a.value) ? Number(a.value) : a.value;
}

async function imapflowCommand(client: ImapFlow, command: string, attributes: Array<{ type: string; value: string } | unknown[]>, untagged: string): Promise<unknown[]> {
  const got: unknown[] = [];
  // exec() is imapflow's own command channel: tags, literals and its response parser.
  const exec = (client as unknown as { exec: (c: string, a: unknown, o: unknown) => Promise<{ next: () => void }> }).exec.bind(client);
  const response = await exec(command, attributes, {
    untagged: { [untagged]: async (u: { attributes?: unknown[] }) => got.push(...(u.attributes ?? []).map(plain)) },
  });
  response.next();
  return got;
}

const atom = (value: string) => ({ type: 'ATOM', value });

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`SORT and THREAD end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('Python imaplib: sort, thread, UID SORT/THREAD and BADCHARSET', async () => {
      const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(res.status, 0, `imaplib SORT/THREAD scenario failed:\n${res.stderr}\n${res.stdout}`);
      const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string>;
      assert.equal(summary.thread, '(3)(1 (2 4)(5))');
      assert.equal(summary.badcharset, 'NO');
    });

    it('imapflow: SORT, ESORT and THREAD answers parse as a real client reads them', async () => {
      const client = new ImapFlow({ host: server().host, port: server().port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false, disableAutoIdle: true });
      await client.connect();
      try {
        await client.mailboxCreate('flow-sort');
        await client.append('flow-sort', message('Topic', 'Wed, 1 Mar 2000 10:00:00 +0000', 'r@f'));
        await client.append('flow-sort', message('Re: Topic', 'Wed, 1 Mar 2000 11:00:00 +0000', 'c1@f', ['r@f']));
        await client.append('flow-sort', message('Re: Topic', 'Wed, 1 Mar 2000 09:00:00 +0000', 'c2@f', ['r@f']));
        await client.append('flow-sort', message('Aside', 'Tue, 29 Feb 2000 10:00:00 +0000', 'x@f'));
        await client.mailboxOpen('flow-sort');
        assert.ok(client.capabilities.has('SORT') && client.capabilities.has('THREAD=REFERENCES'));
        assert.deepEqual(await imapflowCommand(client, 'SORT', [[atom('DATE')], atom('UTF-8'), atom('ALL')], 'SORT'), [4, 3, 1, 2]);
        assert.deepEqual(await imapflowCommand(client, 'UID SORT', [[atom('REVERSE'), atom('SUBJECT')], atom('UTF-8'), atom('ALL')], 'SORT'), [1, 2, 3, 4]);
        const esort = await imapflowCommand(client, 'SORT', [atom('RETURN'), [atom('MIN'), atom('COUNT')], [atom('DATE')], atom('UTF-8'), atom('ALL')], 'ESEARCH');
        assert.deepEqual(esort.slice(1), ['MIN', 4, 'COUNT', 4]);
        const threads = await imapflowCommand(client, 'THREAD', [atom('REFERENCES'), atom('UTF-8'), atom('ALL')], 'THREAD');
        // "(4)(1 (3)(2))": imapflow reads each thread as a nested list.
        assert.deepEqual(threads, [[4], [1, [3], [2]]]);
        // imapflow's own search sends WITHIN keys when the server offers them (SINCE → YOUNGER).
        assert.deepEqual(await client.search({ since: new Date(Date.now() - 3600_000) }, { uid: true }), [1, 2, 3, 4]);
      } finally {
        await client.logout();
      }
    });
  });
}

describe('RFC 5267 UPDATE contexts across sessions', () => {
  let s: TestServer;
  const append = (c: RawClient, tag: string, subject: string): Promise<string[]> => {
    const raw = `Subject: ${subject}\r\n\r\nx\r\n`;
    return run(c, tag, `APPEND INBOX {${raw.length}+}\r\n${raw}`);
  };

  it('ADDTO after the EXISTS, REMOVEFROM before the EXPUNGE, for changes made by another session', async () => {
    s = await startImapServer();
    try {
      const watcher = new RawClient(s.port);
      const other = new RawClient(s.port);
      await watcher.login();
      await other.login();
      for (const subject of ['one', 'two', 'three']) await append(other, 'a', subject);
      await run(watcher, 's', 'SELECT INBOX');
      await run(other, 's', 'SELECT INBOX');
      assert.match((await run(watcher, 'W1', 'SEARCH RETURN (UPDATE COUNT) UNSEEN'))[0]!, /^\* ESEARCH \(TAG "W1"\) COUNT 3$/);
      assert.match((await run(watcher, 'W2', 'UID SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 UNSEEN'))[0]!, /^\* ESEARCH \(TAG "W2"\) UID ALL 2:3,1$/);

      // Another session appends: the watcher's IDLE hears EXISTS, then the ADDTOs ("FOUR" sorts
      // last in REVERSE SUBJECT: position 4).
      watcher.send('I IDLE\r\n');
      await watcher.expect(/^\+/);
      const mark = watcher.transcript.length;
      await append(other, 'b', 'four');
      await watcher.expect(/^\* ESEARCH \(TAG "W2"\)/);
      const pushed = watcher.transcript.slice(mark);
      assert.deepEqual(pushed, ['* 4 EXISTS', '* 4 RECENT', '* ESEARCH (TAG "W1") ADDTO (0 4)', '* ESEARCH (TAG "W2") UID ADDTO (4 4)']);

      // Another session marks one seen, then expunges another: REMOVEFROM comes first, in numbers
      // that are still valid when the client reads them.
      const mark2 = watcher.transcript.length;
      await run(other, 'c', 'STORE 2 +FLAGS (\\Seen)');
      await watcher.expect(/^\* ESEARCH \(TAG "W2"\) UID REMOVEFROM/);
      await run(other, 'd', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
      await watcher.expect(/^\* 1 FETCH/);
      await run(other, 'e', 'EXPUNGE');
      await watcher.expect(/^\* 1 EXPUNGE/);
      watcher.send('DONE\r\n');
      await watcher.expect(/^I OK/);
      const seen = watcher.transcript.slice(mark2).filter((l) => !l.startsWith('I OK'));
      assert.deepEqual(seen, [
        '* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))',
        '* ESEARCH (TAG "W1") REMOVEFROM (0 2)',
        '* ESEARCH (TAG "W2") UID REMOVEFROM (1 2)',
        // Deleted alone leaves UNSEEN as it was: no update until the expunge.
        '* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))',
        '* ESEARCH (TAG "W1") REMOVEFROM (0 1)',
        '* ESEARCH (TAG "W2") UID REMOVEFROM (2 1)',
        '* 1 EXPUNGE',
      ]);
      watcher.destroy();
      other.destroy();
    } finally {
      await s.close();
    }
  });

  it('NO [NOUPDATE] past maxUpdateContexts; the result still comes, and the tag stays free', async () => {
    s = await startImapServer({ limits: { maxUpdateContexts: 1 } });
    try {
      const c = new RawClient(s.port);
      await c.login();
      await append(c, 'a', 'one');
      await run(c, 's', 'SELECT INBOX');
      assert.deepEqual(await run(c, 'U1', 'SEARCH RETURN (UPDATE COUNT) ALL'), ['* ESEARCH (TAG "U1") COUNT 1', 'U1 OK SEARCH completed']);
      assert.deepEqual(await run(c, 'U2', 'SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL'), [
        '* ESEARCH (TAG "U2") COUNT 1',
        '* NO [NOUPDATE "U2"] Too many UPDATE contexts',
        'U2 OK SORT completed',
      ]);
      assert.match((await run(c, 'x', 'CANCELUPDATE "U2"')).at(-1)!, /^x NO /);
      assert.match((await run(c, 'y', 'CANCELUPDATE "U1"')).at(-1)!, /^y OK /);
      c.destroy();
    } finally {
      await s.close();
    }
  });
});
