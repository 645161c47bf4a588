/**
 * Port settings of `postroom serve`. A port is a number, `"auto"` (the OS picks a free port — for
 * tests and side-by-side runs) or `"off"`. `0` also means off, as the issue asked ("a port of 0 in
 * the config disables a listener"); note that this differs from the library options, where 0
 * means "pick a free port" and null disables — `listenPort()` translates.
 */
export type PortSetting = number | 'auto' | 'off';

/** Parses a flag or config value; throws with a message naming `key` when it is not a port. */
export function parsePort(value: unknown, key: string): PortSetting {
  if (value === null || value === false) return 'off';
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'auto' || text === 'off') return text;
    if (/^\d+$/.test(text)) return parsePort(Number(text), key);
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535) {
    return value === 0 ? 'off' : value;
  }
  throw new Error(`${key}: expected a port number (1-65535), "auto" or "off" (0), got ${JSON.stringify(value)}`);
}

/** The library's port option: null disables, 0 asks the OS for a free port. */
export function listenPort(setting: PortSetting, ephemeral: boolean): number | null {
  if (setting === 'off') return null;
  if (setting === 'auto' || ephemeral) return 0;
  return setting;
}
