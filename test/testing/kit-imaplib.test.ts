/** postroom/testing from Python's imaplib: the kit's faults are seen by another client library too. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../../src/testing/index.js';

const script = fileURLToPath(new URL('./kit_imaplib.py', import.meta.url));

it('imaplib sees the preloaded mail, an injected NO, a delayed STATUS and a dropped connection', async () => {
  const server = await startTestServer({ users: { alice: 'pw' }, messages: { alice: ['Subject: from the kit\n\nhello\n'] } });
  try {
    server.faults.add({ command: 'CREATE', action: { type: 'reply', status: 'NO', text: 'Not today' } });
    server.faults.add({ command: 'STATUS', action: { type: 'delay', ms: 300 } });
    server.faults.add({ command: 'NOOP', action: { type: 'drop' } });
    const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('python3', [script, server.host, String(server.imapPort)], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string | number>;
    assert.equal(out['exists'], 1);
    assert.equal(out['subject'], 'Subject: from the kit');
    assert.equal(out['create'], 'NO');
    assert.ok(Number(out['status_delay_ms']) >= 290, `STATUS took ${out['status_delay_ms']} ms`);
    assert.equal(out['drop'], 'aborted');
  } finally {
    await server.close({ force: true });
  }
});
