/** Starts createLmtpServer on a free loopback port for a test, over any store. The caller closes it. */
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { createLmtpServer, type LmtpServer, type LmtpServerOptions } from '../../src/lmtp/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore } from '../../src/store/types.js';

export interface TestLmtpServer {
  server: LmtpServer;
  store: MailStore;
  port: number;
  sockets: string[];
  close(): Promise<void>;
}

export const LMTP_USERS = { ann: 'x', bob: 'x', carol: 'x', broken: 'x', full: 'x', quota: 'x', ailing: 'x', closed: 'x' };

export async function startLmtpServer(options: Partial<LmtpServerOptions> = {}): Promise<TestLmtpServer> {
  const store = options.store ?? new MemoryStore();
  const server = createLmtpServer({
    auth: new StaticAuthenticator(LMTP_USERS),
    hostname: 'mx.test',
    port: 0,
    ...options,
    store,
  });
  const bound = await server.listen();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await server.close();
    if (!options.store) await store.close();
  };
  return { server, store, port: bound.port!, sockets: bound.sockets, close };
}

/** Messages in a user's mailbox, oldest first, as stored. */
export async function storedMessages(store: MailStore, user: string, mailbox = 'INBOX'): Promise<Buffer[]> {
  const mail = await store.open(user);
  try {
    const box = await mail.get(mailbox);
    const snapshot = await mail.snapshot(box.id);
    return Promise.all(snapshot.messages.map((m) => mail.read(box.id, m.uid)));
  } finally {
    await mail.close();
  }
}

/** About `size` bytes of text lines, some starting with a dot, some ending in a bare LF. */
export function dottedBody(size: number): string {
  const lines: string[] = [];
  for (let n = 0, i = 0; n < size; i++) {
    const line = i % 97 === 0 ? `.dot line ${i}\r\n` : i % 89 === 0 ? `bare lf ${i}\n` : `line ${i} of the message, some text to fill it\r\n`;
    lines.push(line);
    n += line.length;
  }
  return lines.join('');
}
