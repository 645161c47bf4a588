/**
 * The server side of the live fuzz run, in a process of its own: IMAP and POP3 on one memory
 * store, with the users the run needs. Kept apart from the load generator so that what the
 * bystander measures is the server's responsiveness, not the generator's, and so that its memory
 * is its own. Talks to the run over IPC:
 *   → { type: 'ready', imapPort, pop3Port }
 *   → { type: 'unhandled', text }        an unhandled rejection or exception in the server
 *   ← { type: 'close' }  → { type: 'closed' } and exit
 *
 *   node --import tsx test/fuzz/server-process.ts '<json FuzzServerOptions>'
 */
import { createImapServer } from '../../src/imap/server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import type { ImapLimits } from '../../src/imap/limits.js';
import type { Pop3Limits } from '../../src/pop3/limits.js';

export interface FuzzServerOptions {
  imapLimits: Partial<ImapLimits>;
  pop3Limits: Partial<Pop3Limits>;
  /** POP3 users pop0 … pop(n-1), password "pw", each with `pop3Messages` messages. */
  pop3Users: number;
  pop3Messages: number;
}

const send = (message: object): void => void process.send?.(message);
process.on('unhandledRejection', (reason) => send({ type: 'unhandled', text: String((reason as Error)?.stack ?? reason) }));
process.on('uncaughtException', (err) => send({ type: 'unhandled', text: String(err.stack ?? err) }));

const options = JSON.parse(process.argv[2] ?? '{}') as FuzzServerOptions;
const users: Record<string, string> = { alice: 'secret', bob: 'hunter2' };
for (let i = 0; i < options.pop3Users; i++) users[`pop${i}`] = 'pw';
const store = new MemoryStore();
const auth = new StaticAuthenticator(users);

for (let i = 0; i < options.pop3Users; i++) {
  const mail = await store.open(`pop${i}`);
  const inbox = await mail.get('INBOX');
  for (let n = 1; n <= options.pop3Messages; n++) {
    const body = `From: fuzz@example.org\r\nSubject: pop3 fuzz ${n}\r\n\r\n${'line of text\r\n'.repeat(n)}`;
    await mail.append(inbox.id, { content: Buffer.from(body) });
  }
  await mail.close();
}

const imap = createImapServer({ store, auth, host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true, limits: options.imapLimits });
const pop3 = createPop3Server({ store, auth, host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true, limits: options.pop3Limits });
const { port: imapPort } = await imap.listen();
const { port: pop3Port } = await pop3.listen();

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'close') return;
  void (async () => {
    await Promise.race([Promise.all([imap.close(), pop3.close()]), new Promise((r) => setTimeout(r, 20_000))]);
    await store.close();
    send({ type: 'closed' });
    process.exit(0);
  })();
});
send({ type: 'ready', imapPort, pop3Port });
