/**
 * The settings of `postroom serve`, one name each: camelCase in the JSON config file and in the
 * library options, kebab-case as command-line flags (`imapPort` ↔ `--imap-port`). Precedence:
 * built-in defaults < config file < flags. docs/configuration.md lists them all.
 */
import { parsePort, type PortSetting } from './ports.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const STORE_KINDS = ['sqlite', 'memory', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface ServeSettings {
  /** Data folder: users file, TLS files, the SQLite store. */
  data: string;
  host: string;
  imapPort: PortSetting;
  imapsPort: PortSetting;
  pop3Port: PortSetting;
  pop3sPort: PortSetting;
  /** Every enabled listener binds a free port instead of its configured one. */
  ephemeralPorts: boolean;
  store: StoreKind;
  /**
   * The PostgreSQL store's database (store = postgres): postgres://user:password@host:port/db.
   * What it leaves out comes from the PG* environment variables (PGHOST, PGPASSWORD, ...).
   */
  databaseUrl?: string;
  allowInsecureAuth: boolean;
  logLevel: LogLevel;
  demo: boolean;
  /** PEM files; when both are absent a self-signed certificate is made in DATA/tls/. */
  tlsKey?: string;
  tlsCert?: string;
  /** Name used in greetings and SASL (default: the machine's host name). */
  hostname?: string;
  /** Drop privileges to this user / group once every port is bound. */
  user?: string;
  group?: string;
  /** Overrides of the IMAP protocol limits (src/imap/limits.ts); config file only. */
  imapLimits?: Record<string, number>;
  /** Overrides of the POP3 limits (src/pop3/limits.ts); config file only. */
  pop3Limits?: Record<string, number>;
  /** Failed-login delays and lockouts shared by IMAP and POP3 (src/auth/login-guard.ts); config file only. */
  loginGuard?: Record<string, number>;
}

export const DEFAULT_SETTINGS: Readonly<ServeSettings> = Object.freeze({
  data: './data',
  host: '127.0.0.1',
  imapPort: 1143,
  imapsPort: 1993,
  pop3Port: 1110,
  pop3sPort: 1995,
  ephemeralPorts: false,
  store: 'sqlite',
  allowInsecureAuth: false,
  logLevel: 'info',
  demo: false,
});

export type PartialSettings = Partial<ServeSettings>;

type Kind = 'string' | 'boolean' | 'port' | 'path' | 'numbers' | { oneOf: readonly string[] };

/** The schema shared by the config-file reader and the flag reader. */
export const SETTING_KINDS: Readonly<Record<keyof ServeSettings, Kind>> = {
  data: 'path',
  host: 'string',
  imapPort: 'port',
  imapsPort: 'port',
  pop3Port: 'port',
  pop3sPort: 'port',
  ephemeralPorts: 'boolean',
  store: { oneOf: STORE_KINDS },
  databaseUrl: 'string',
  allowInsecureAuth: 'boolean',
  logLevel: { oneOf: LOG_LEVELS },
  demo: 'boolean',
  tlsKey: 'path',
  tlsCert: 'path',
  hostname: 'string',
  user: 'string',
  group: 'string',
  imapLimits: 'numbers',
  pop3Limits: 'numbers',
  loginGuard: 'numbers',
};

export function isSettingKey(key: string): key is keyof ServeSettings {
  return Object.prototype.hasOwnProperty.call(SETTING_KINDS, key);
}

/** `imapPort` → `--imap-port`, for messages that should name the flag. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Checks and normalises one value; `source` names where it came from in error messages.
 * `resolvePath` turns relative paths into absolute ones (config files resolve against their own
 * folder, flags against the working directory).
 */
export function settingValue(
  key: keyof ServeSettings,
  value: unknown,
  source: string,
  resolvePath: (p: string) => string,
): ServeSettings[keyof ServeSettings] {
  const kind = SETTING_KINDS[key];
  const where = `${source}: ${key}`;
  if (kind === 'port') return parsePort(value, where);
  if (kind === 'numbers') {
    // Names are checked against the defaults by the servers themselves (an unknown limit is an error there).
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: expected an object of numbers`);
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${where}.${k}: expected a positive number, got ${JSON.stringify(v)}`);
    }
    return value as Record<string, number>;
  }
  if (kind === 'boolean') {
    if (typeof value !== 'boolean') throw new Error(`${where}: expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`${where}: expected a non-empty string, got ${JSON.stringify(value)}`);
  }
  if (kind === 'path') return resolvePath(value);
  if (kind === 'string') return value;
  if (!kind.oneOf.includes(value)) throw new Error(`${where}: expected one of ${kind.oneOf.join(', ')}, got "${value}"`);
  return value as ServeSettings[keyof ServeSettings];
}

/** Later layers win; undefined values in a layer do not erase earlier ones. */
export function mergeSettings(...layers: PartialSettings[]): ServeSettings {
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged as unknown as ServeSettings;
}
