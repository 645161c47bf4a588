/** Starts a TLS-enabled POP3 server in either mode over the same messages, for the e2e tests. */
import { createPop3Server, apopDigest, type Pop3Server } from '../../../src/pop3/server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import type { MailStore } from '../../../src/store/types.js';
import { memoryDrop, testCertificate, tinyAuthenticator } from './fixtures.js';

export type Mode = 'callbacks' | 'store' | 'sqlite';

export interface Running {
  server: Pop3Server;
  port: number;
  tlsPort: number;
  /** Messages left in the maildrop, from the source of truth (not through POP3). */
  remaining(): Promise<number>;
  close(): Promise<void>;
}

export async function startMode(mode: Mode, user: string, password: string, messages: Buffer[]): Promise<Running> {
  const tls = await testCertificate();
  const base = { port: 0, tlsPort: 0, tls, limits: { authFailureDelaySeconds: 0 } } as const;
  if (mode !== 'callbacks') {
    const dir = mode === 'sqlite' ? mkdtempSync(join(tmpdir(), 'pop3-sqlite-')) : undefined;
    const store: MailStore = dir ? await SqliteStore.open({ directory: dir }) : new MemoryStore();
    const handle = await store.open(user);
    const inbox = await handle.get('INBOX');
    for (const content of messages) await handle.append(inbox.id, { content });
    const server = createPop3Server({ ...base, store, auth: tinyAuthenticator({ [user]: password }) });
    const ports = await server.listen();
    return {
      server,
      port: ports.port!,
      tlsPort: ports.tlsPort!,
      remaining: async () => (await handle.snapshot(inbox.id)).messages.length,
      close: async () => {
        await server.close();
        await handle.close();
        await store.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const drop = memoryDrop({ [user]: password }, { [user]: Object.fromEntries(messages.map((m, i) => [`msg-${i + 1}`, m])) });
  const server = createPop3Server({
    ...base,
    callbacks: {
      ...drop.callbacks,
      apop: (u, digest, greeting) => u === user && apopDigest(greeting, password) === digest,
    },
  });
  const ports = await server.listen();
  return {
    server,
    port: ports.port!,
    tlsPort: ports.tlsPort!,
    remaining: async () => drop.mail.get(user)?.size ?? 0,
    close: () => server.close(),
  };
}
