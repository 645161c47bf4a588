/**
 * Protocol limits and the login guard come from the config file (camelCase objects, as in the
 * library options) and reach the running servers; unknown names are errors, not silently ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveSettings } from '../../src/config/resolve.js';
import { startServers } from '../../src/cli/start.js';
import { RawClient } from '../helpers/raw-client.js';

async function withConfig(config: object, fn: (configPath: string, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-cfg-'));
  try {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ data: join(dir, 'data'), store: 'memory', ephemeralPorts: true, allowInsecureAuth: true, ...config }));
    await fn(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('imapLimits from the config file apply to the IMAP server', async () => {
  await withConfig({ imapLimits: { maxBadCommands: 3 }, pop3Limits: { maxBadCommands: 2 }, loginGuard: { maxFailures: 4 } }, async (config) => {
    const settings = await resolveSettings({ config });
    assert.deepEqual(settings.imapLimits, { maxBadCommands: 3 });
    const running = await startServers(settings, pino({ level: 'silent' }));
    try {
      const c = new RawClient(running.ports.imapPort!);
      await c.expect(/^\* OK/);
      for (let i = 0; i < 3; i++) c.send(`b${i} NONSENSE\r\n`);
      await c.expect(/^\* BYE Too many/);
      await c.waitClosed();
    } finally {
      await running.close();
    }
  });
});

test('unknown limit names and non-numbers are refused', async () => {
  await withConfig({ imapLimits: { maxBadComands: 3 } }, async (config) => {
    const settings = await resolveSettings({ config });
    await assert.rejects(startServers(settings, pino({ level: 'silent' })), /unknown IMAP limit "maxBadComands"/);
  });
  await withConfig({ pop3Limits: { idleSeconds: 'soon' } }, async (config) => {
    await assert.rejects(resolveSettings({ config }), /pop3Limits\.idleSeconds: expected a number of 0 or more/);
  });
  await withConfig({ loginGuard: { maxFailure: 1 } }, async (config) => {
    const settings = await resolveSettings({ config });
    await assert.rejects(startServers(settings, pino({ level: 'silent' })), /unknown login guard option "maxFailure"/);
  });
  await withConfig({ usersFile: { recheck: 1 } }, async (config) => {
    const settings = await resolveSettings({ config });
    await assert.rejects(startServers(settings, pino({ level: 'silent' })), /usersFile: unknown setting "recheck"/);
  });
  await withConfig({ usersFile: { recheckMs: 0.5 } }, async (config) => {
    const settings = await resolveSettings({ config });
    await assert.rejects(startServers(settings, pino({ level: 'silent' })), /usersFile\.recheckMs must be a whole number/);
  });
});
