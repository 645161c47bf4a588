/**
 * The child side of stall-server.ts: a store, seeded through the store, with an IMAP (and a POP3)
 * server on it, in a process of its own, and the loop-stall meter run on request. It is a process
 * of its own because node:test's harness enables an async hook with a destroy callback in the test
 * process: there every promise is tracked until a major GC runs one destroy callback for each
 * promise that died since the previous one (Map deletes and rehashes, 100 ms and more after a
 * seed of 30,000 APPENDs), and that stretch lands on whichever command the GC happens to hit. A
 * server in production has no such hook; the bound must measure the server, not the harness.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImapServer } from '../../src/imap/server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailStore } from '../../src/store/types.js';
import { meterLoopStalls, type LoopStall } from './loop-stall.js';
import { startProfile } from './stall-profile.js';
import type { StallServerOptions, StallRequest, StallReply } from './stall-server.js';

function send(message: StallReply): void {
  process.send!(message);
}

async function seed(store: MailStore, user: string, messages: number): Promise<void> {
  const mail = await store.open(user);
  const inbox = await mail.get('INBOX');
  // One body for all (stored once, parsed once), 2,000 APPENDs in flight at a time.
  const content = Buffer.from('From: a@example.org\r\nSubject: seeded\r\n\r\nbody\r\n');
  for (let i = 0; i < messages; i += 2000) {
    await Promise.all(Array.from({ length: Math.min(2000, messages - i) }, () => mail.append(inbox.id, { content })));
  }
  await mail.close();
}

async function main(options: StallServerOptions): Promise<void> {
  let directory: string | undefined;
  let store: MailStore;
  if (options.store === 'sqlite') {
    directory = await mkdtemp(join(tmpdir(), 'postroom-stall-child-'));
    store = await SqliteStore.open({ directory });
  } else store = new MemoryStore();
  for (const [user, messages] of Object.entries(options.seed)) await seed(store, user, messages);
  for (const [user, limits] of Object.entries(options.quota ?? {})) await store.setQuota!(user, limits);
  // The seed's garbage collected now, not in the first command measured.
  (globalThis as { gc?: () => void }).gc?.();
  const auth = new StaticAuthenticator({ alice: 'secret', bob: 'hunter2', carol: 'secret' });
  const imap = createImapServer({ host: '127.0.0.1', port: 0, store, auth, allowInsecureAuth: true });
  const { port } = await imap.listen();
  const pop3 = options.pop3 ? createPop3Server({ host: '127.0.0.1', port: 0, tlsPort: null, store, auth, allowInsecureAuth: true }) : undefined;
  const pop3Port = pop3 ? (await pop3.listen()).port! : null;
  let meter: { stop(): LoopStall } | undefined;
  let profile: { stop(): Promise<void> } | undefined;
  process.on('message', (request: StallRequest) => {
    void (async (): Promise<StallReply> => {
      switch (request.op) {
        case 'meter':
          // A full collection first, so the garbage of what ran before (the seed, earlier
          // commands) is not collected in a pause that lands on the command measured.
          (globalThis as { gc?: () => void }).gc?.();
          // The profiler first: starting it is a stretch of its own, not the command's.
          profile = await startProfile();
          meter = meterLoopStalls();
          return { id: request.id, ok: true };
        case 'stop': {
          const stall = meter?.stop() ?? { maxWallMs: 0, maxCpuMs: 0, maxCpuBesideGcMs: 0, maxGcMs: 0 };
          meter = undefined;
          await profile?.stop();
          profile = undefined;
          return { id: request.id, ok: true, stall };
        }
        case 'purged':
          if (store instanceof SqliteStore) await store.purged();
          return { id: request.id, ok: true };
        case 'close':
          await imap.close();
          await pop3?.close();
          await store.close();
          if (directory) await rm(directory, { recursive: true, force: true });
          return { id: request.id, ok: true };
      }
    })().then(send, (err: unknown) => send({ id: request.id, ok: false, error: String(err) }));
  });
  send({ id: 0, ok: true, port: port!, pop3Port });
}

const options = JSON.parse(process.argv[2]!) as StallServerOptions;
main(options).catch((err: unknown) => {
  send({ id: 0, ok: false, error: String(err) });
  process.exitCode = 1;
});
