/** Shared test fixtures: a callback maildrop over a Map, a tiny authenticator, a certificate. */
import selfsigned from 'selfsigned';
import type { Authenticator } from '../../../src/auth/types.js';
import type { Pop3Callbacks } from '../../../src/pop3/server.js';

export interface MemoryDrop {
  callbacks: Pop3Callbacks;
  /** user → id → message */
  mail: Map<string, Map<string, Buffer | string>>;
  deletions: string[];
}

export function memoryDrop(users: Record<string, string>, mail: Record<string, Record<string, Buffer | string>>): MemoryDrop {
  const drop: MemoryDrop = {
    mail: new Map(Object.entries(mail).map(([u, m]) => [u, new Map(Object.entries(m))])),
    deletions: [],
    callbacks: {
      authenticate: async (user, password) => users[user] !== undefined && users[user] === password,
      list: async (user) => [...(drop.mail.get(user)?.keys() ?? [])],
      retrieve: async (user, id) => {
        const m = drop.mail.get(user)?.get(id);
        if (m === undefined) throw new Error('gone');
        return m;
      },
      delete: async (user, id) => {
        drop.deletions.push(`${user}/${id}`);
        drop.mail.get(user)?.delete(id);
      },
    },
  };
  return drop;
}

export function tinyAuthenticator(users: Record<string, string>): Authenticator {
  return {
    async authenticate(req) {
      return users[req.username] !== undefined && users[req.username] === req.password ? { user: req.username } : null;
    },
    async plaintextSecret(username) {
      return users[username] ?? null;
    },
  };
}

let cached: { key: string; cert: string } | undefined;
export async function testCertificate(): Promise<{ key: string; cert: string }> {
  if (!cached) {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
    cached = { key: pems.private, cert: pems.cert };
  }
  return cached;
}
