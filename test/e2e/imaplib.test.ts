/**
 * End to end with Python's imaplib (the scenario script asserts each answer itself).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';

const script = fileURLToPath(new URL('./python/imaplib_scenario.py', import.meta.url));

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`Python imaplib end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: false });

    it('runs the imaplib scenario: STARTTLS, implicit TLS, tree, APPEND, FETCH, SEARCH, STORE, COPY, EXPUNGE', async () => {
      const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        // Asynchronous: a synchronous spawn would block the event loop this server runs on.
        execFile('python3', [script, server().host, String(server().port), String(server().tlsPort)], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(res.status, 0, `imaplib scenario failed:\n${res.stderr}\n${res.stdout}`);
      const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string>;
      assert.match(summary.plaintext_login!, /PRIVACYREQUIRED|TLS/);
      assert.equal(summary.badcharset, 'NO');
      assert.match(summary.status!, /MESSAGES 2/);
    });
  });
}

