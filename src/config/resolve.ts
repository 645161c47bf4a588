/** Turns parsed command-line options (and the config file they may name) into ServeSettings. */
import { resolve } from 'node:path';
import { loadConfigFile } from './config-file.js';
import { isSettingKey, mergeSettings, settingValue, type PartialSettings, type ServeSettings } from './settings.js';

/**
 * Keeps the options that are settings. Commander already camelCases flag names, so `--imap-port`
 * arrives as `imapPort`; values not given on the command line are undefined and left out.
 */
/** Flags whose name is not their setting's: `--trusted-proxy` (repeatable) fills `trustedProxies`. */
export const FLAG_SETTINGS: Readonly<Record<string, string>> = { trustedProxy: 'trustedProxies' };

export function settingsFromFlags(options: Record<string, unknown>): PartialSettings {
  const settings: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(options)) {
    const key = FLAG_SETTINGS[flag] ?? flag;
    if (value === undefined || !isSettingKey(key)) continue;
    settings[key] = settingValue(key, value, 'command line', (p) => resolve(p));
  }
  return settings as PartialSettings;
}

/** defaults < config file (`options.config`) < flags; `data` is made absolute. */
export async function resolveSettings(options: Record<string, unknown>): Promise<ServeSettings> {
  const configPath = options['config'];
  const file = typeof configPath === 'string' ? await loadConfigFile(configPath) : {};
  const merged = mergeSettings(file, settingsFromFlags(options));
  if ((merged.tlsKey === undefined) !== (merged.tlsCert === undefined)) {
    throw new Error('tlsKey and tlsCert (--tls-key, --tls-cert) must be given together');
  }
  return { ...merged, data: resolve(merged.data) };
}
