import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DEFAULT_SETTINGS,
  flagName,
  listenPort,
  mergeSettings,
  parseConfig,
  parsePort,
  resolveSettings,
  settingsFromFlags,
} from '../../src/config/index.js';
import { SETTING_KINDS } from '../../src/config/settings.js';
import { FLAG_SETTINGS } from '../../src/config/resolve.js';
import { Command } from 'commander';
import { register as registerServe } from '../../src/cli/commands/serve.js';

test('ports: numbers, "auto", "off" and 0 (= off)', () => {
  assert.equal(parsePort('1143', 'x'), 1143);
  assert.equal(parsePort(993, 'x'), 993);
  assert.equal(parsePort('auto', 'x'), 'auto');
  assert.equal(parsePort('OFF', 'x'), 'off');
  assert.equal(parsePort(0, 'x'), 'off');
  assert.equal(parsePort('0', 'x'), 'off');
  assert.equal(parsePort(null, 'x'), 'off');
  assert.equal(parsePort(false, 'x'), 'off');
  for (const bad of ['65536', '-1', 'http', 1.5, '', true, {}]) {
    assert.throws(() => parsePort(bad, 'imapPort'), /imapPort: expected a port/, JSON.stringify(bad));
  }
});

test('ports: translation to the library options (null = disabled, 0 = free port)', () => {
  assert.equal(listenPort('off', false), null);
  assert.equal(listenPort('off', true), null);
  assert.equal(listenPort('auto', false), 0);
  assert.equal(listenPort(1143, false), 1143);
  assert.equal(listenPort(1143, true), 0);
});

test('flag names are the kebab-case of the config keys', () => {
  assert.equal(flagName('imapPort'), '--imap-port');
  assert.equal(flagName('imapsPort'), '--imaps-port');
  assert.equal(flagName('pop3sPort'), '--pop3s-port');
  assert.equal(flagName('allowInsecureAuth'), '--allow-insecure-auth');
});

test('every setting but the config-file-only objects has its flag on `serve`', () => {
  const program = new Command();
  registerServe(program);
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  const flags = new Set(serve.options.map((o) => o.long));
  // A flag named otherwise than its setting (--trusted-proxy, repeatable, for trustedProxies).
  const flagOf = (key: string): string => {
    const alias = Object.entries(FLAG_SETTINGS).find(([, setting]) => setting === key)?.[0];
    return alias ? flagName(alias) : flagName(key);
  };
  for (const [key, kind] of Object.entries(SETTING_KINDS)) {
    if (kind === 'numbers') assert.ok(!flags.has(flagOf(key)), `${key} is config-file only`);
    else assert.ok(flags.has(flagOf(key)), `serve has no ${flagOf(key)} for ${key}`);
  }
});

test('config file: values checked, relative paths resolved next to the file', () => {
  const file = parseConfig(
    JSON.stringify({ data: 'mail', imapPort: 0, pop3Port: 'auto', store: 'memory', allowInsecureAuth: true, tlsKey: '/abs/key.pem', '//': 'comment' }),
    '/etc/postroom/config.json',
  );
  assert.deepEqual(file, {
    data: '/etc/postroom/mail',
    imapPort: 'off',
    pop3Port: 'auto',
    store: 'memory',
    allowInsecureAuth: true,
    tlsKey: '/abs/key.pem',
  });
});

test('config file: unknown keys, wrong types and bad JSON are errors naming the problem', () => {
  assert.throws(() => parseConfig('{"imapport": 1}', 'c.json'), /unknown setting "imapport"/);
  assert.throws(() => parseConfig('{"store": "mongo"}', 'c.json'), /store: expected one of sqlite, memory/);
  assert.throws(() => parseConfig('{"demo": "yes"}', 'c.json'), /demo: expected true or false/);
  assert.throws(() => parseConfig('{"logLevel": "loud"}', 'c.json'), /logLevel/);
  assert.throws(() => parseConfig('[1]', 'c.json'), /JSON object/);
  assert.throws(() => parseConfig('{bad', 'c.json'), /not valid JSON/);
});

test('merge: defaults < file < flags, undefined never erases', () => {
  const merged = mergeSettings({ host: '0.0.0.0', imapPort: 143, logLevel: 'debug' }, { imapPort: 'auto', host: undefined });
  assert.equal(merged.host, '0.0.0.0');
  assert.equal(merged.imapPort, 'auto');
  assert.equal(merged.logLevel, 'debug');
  assert.equal(merged.pop3Port, DEFAULT_SETTINGS.pop3Port);
  assert.equal(merged.store, 'sqlite');
});

test('flags: commander camelCase options become settings; non-settings are ignored', () => {
  const flags = settingsFromFlags({ imapPort: '2143', allowInsecureAuth: false, data: 'rel', passwordStdin: true, demo: undefined });
  assert.deepEqual(flags, { imapPort: 2143, allowInsecureAuth: false, data: resolve('rel') });
  assert.throws(() => settingsFromFlags({ pop3sPort: 'x' }), /command line: pop3sPort/);
});

test('resolveSettings reads --config and lets flags override it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'postroom.json');
  await writeFile(path, JSON.stringify({ data: 'd', imapPort: 2143, pop3Port: 0, allowInsecureAuth: true, logLevel: 'warn' }));
  const s = await resolveSettings({ config: path, imapPort: '3143', allowInsecureAuth: false });
  assert.equal(s.data, join(dir, 'd'));
  assert.equal(s.imapPort, 3143);
  assert.equal(s.pop3Port, 'off');
  assert.equal(s.allowInsecureAuth, false);
  assert.equal(s.logLevel, 'warn');
  assert.equal(s.imapsPort, 1993);

  const defaults = await resolveSettings({});
  assert.equal(defaults.data, resolve('./data'));
  await assert.rejects(resolveSettings({ tlsKey: 'k.pem' }), /must be given together/);
  await assert.rejects(resolveSettings({ config: join(dir, 'missing.json') }), /cannot read config file/);
});

test('every serve flag is a config key too (workers included), and docs/cli.md documents each flag', async () => {
  const program = new Command();
  registerServe(program);
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  const docs = await import('node:fs').then((fs) => fs.readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8'));
  for (const o of serve.options) {
    const key = FLAG_SETTINGS[o.attributeName()] ?? o.attributeName();
    if (key === 'config') continue;
    assert.ok(key in SETTING_KINDS, `--${o.long} has no config key ${key}`);
    assert.ok(docs.includes(`\`${o.long}`), `${o.long} is not in docs/cli.md`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'postroom-cfgkeys-'));
  try {
    const settings = parseConfig(JSON.stringify({ workers: 2, metricsPort: 9143, metricsHost: '127.0.0.2', autoconfigPort: 'auto', controlSocket: 'ctl.sock' }), join(dir, 'c.json'));
    assert.deepEqual(settings, { workers: 2, metricsPort: 9143, metricsHost: '127.0.0.2', autoconfigPort: 'auto', controlSocket: join(dir, 'ctl.sock') });
    assert.equal(parseConfig('{"workers":"auto"}', 'c.json').workers, 'auto');
    assert.equal(settingsFromFlags({ workers: '3' }).workers, 3);
    assert.deepEqual(settingsFromFlags({ trustedProxy: ['10.0.0.5', '10.1.0.0/16'] }).trustedProxies, ['10.0.0.5', '10.1.0.0/16']);
    assert.deepEqual(parseConfig('{"trustedProxies":["::1"]}', 'c.json').trustedProxies, ['::1']);
    assert.throws(() => parseConfig('{"workers":0}', 'c.json'), /c\.json: workers: expected a whole number from 1 to 64, or "auto", got 0/);
    assert.throws(() => parseConfig('{"workers":"many"}', 'c.json'), /workers: expected a whole number/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('limits: 0 or null switch off the limits that may be off; the others say which can', async () => {
  const { resolveLimits } = await import('../../src/imap/limits.js');
  const { resolvePop3Limits } = await import('../../src/pop3/limits.js');
  const settings = parseConfig(JSON.stringify({ imapLimits: { maxConnectionsPerIp: null, maxBadCommands: 0 }, pop3Limits: { maxAuthFailures: null } }), 'c.json');
  assert.deepEqual(settings.imapLimits, { maxConnectionsPerIp: 0, maxBadCommands: 0 });
  const imap = resolveLimits(settings.imapLimits);
  assert.equal(imap.maxConnectionsPerIp, Infinity);
  assert.equal(imap.maxBadCommands, Infinity);
  assert.equal(imap.maxConnections, 10_000, 'the others keep their defaults');
  assert.equal(resolvePop3Limits(settings.pop3Limits).maxAuthFailures, Infinity);
  assert.throws(() => resolveLimits({ maxMessageSize: 0 }), /limit maxMessageSize must be a positive number \(0 switches off only maxConnections, /);
  assert.throws(() => parseConfig('{"imapLimits":{"maxConnections":-1}}', 'c.json'), /imapLimits\.maxConnections: expected a number of 0 or more/);
});
