/**
 * Reads the JSON config file of `postroom serve`: the same settings as the flags, in camelCase.
 * Unknown keys are errors, so a typo ("imapport") does not silently fall back to a default.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isSettingKey, settingValue, SETTING_KINDS, type PartialSettings } from './settings.js';

export function parseConfig(text: string, path: string): PartialSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${path}: expected a JSON object of settings`);
  }
  // Relative paths in a config file mean "next to the config file", wherever the server is started.
  const base = dirname(resolve(path));
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === '$schema' || key.startsWith('//')) continue; // room for editors' schema hints and comments
    if (!isSettingKey(key)) {
      throw new Error(`${path}: unknown setting "${key}" (known: ${Object.keys(SETTING_KINDS).join(', ')})`);
    }
    settings[key] = settingValue(key, value, path, (p) => resolve(base, p));
  }
  return settings as PartialSettings;
}

export async function loadConfigFile(path: string): Promise<PartialSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, path);
}
