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

export const RECIPIENT_USER_NAMES = ['auto', 'localpart', 'address'] as const;
export const DELIVERED_TO_MODES = ['single', 'always', 'never'] as const;
/** Who protects TLS 1.3 records after the handshake (src/net/tls.ts TlsRecords). */
export const TLS_RECORDS = ['postroom', 'openssl'] as const;
/**
 * How `--workers` processes reach a SQLite store: 'forward' every call to the primary's one store
 * (store/remote/), or 'own-store': each opens the data folder itself (docs/sqlite.md, "Several
 * processes on one data folder").
 */
export const SQLITE_WORKER_MODES = ['forward', 'own-store'] as const;
export type SqliteWorkerMode = (typeof SQLITE_WORKER_MODES)[number];
/**
 * Who hands a new connection to a `--workers` process: 'kernel' (each worker calls accept() on the
 * shared socket, the kernel picks one — a skewed spread stays for a persistent session's life) or
 * 'primary' (the primary accepts and passes each connection to the next worker in turn: Node's
 * cluster round-robin, SCHED_RR — docs/cluster.md, "Spreading connections").
 */
export const WORKER_ACCEPT_MODES = ['kernel', 'primary'] as const;
export type WorkerAcceptMode = (typeof WORKER_ACCEPT_MODES)[number];

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
  /** IMAP advertises LITERAL- instead of LITERAL+ (RFC 7888 §5: non-synchronising literals up to 4096 octets). */
  literalMinus: boolean;
  logLevel: LogLevel;
  demo: boolean;
  /** PEM files; when both are absent a self-signed certificate is made in DATA/tls/. */
  tlsKey?: string;
  tlsCert?: string;
  /**
   * IMAP over TLS 1.3: 'postroom' (Postroom's own record layer after OpenSSL's handshake: no OpenSSL
   * state per connection, about 50 KB less each) or 'openssl' (the TLSSocket throughout).
   */
  tlsRecords: (typeof TLS_RECORDS)[number];
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
  /** Overrides of the SQLite store's limits (src/store/sqlite/limits.ts); config file only. */
  sqliteLimits?: Record<string, number>;
  /** New body files written with O_DIRECT, past the page cache (docs/sqlite.md). */
  sqliteDirectBodyWrites: boolean;
  /** Verified-login cache: `entries`, `ttlSeconds` (src/auth/credential-cache.ts); config file only. */
  authCache?: Record<string, number>;
  /** How the users file is re-read: `recheckMs` (src/cli/users-file.ts); config file only. */
  usersFile?: Record<string, number>;
  /**
   * Before the listeners open, run a bounded burst of IMAP commands (mostly APPENDs) through the
   * real code against a throwaway SQLite store, so that the first clients meet code V8 has already
   * optimized (src/cli/warm-up.ts). SQLite store only.
   */
  warmUp: boolean;
  /** The warm-up's bounds: `appends` (default 300) and `ms` (default 5,000); config file only. */
  warmUpLimits?: Record<string, number>;
  /**
   * Default RFC 9208 limits of every user (docs/quota.md): `storage` in octets, `messages` a count;
   * 0 or absent: unlimited. A user's `quota_storage=`/`quota_messages=` fields in the users file,
   * and limits set with `postroom quota set` or SETQUOTA, take precedence.
   */
  quota?: Record<string, number>;
  /** Users with administrative rights over IMAP (SETQUOTA, other users' quota roots). */
  admins: string[];
  /** RFC 5464 server entry /shared/admin: how to reach the administrator (a mailto: or tel: URI). */
  adminContact?: string;
  /** LMTP over TCP (off by default: LMTP has no authentication). */
  lmtpPort: PortSetting;
  /** Address the LMTP TCP listener binds (loopback by default, whatever `host` is). */
  lmtpHost: string;
  /** Client addresses or CIDR ranges allowed on the LMTP TCP port. */
  lmtpAllowFrom: string[];
  /** LMTP on a UNIX-domain socket (mode 0660), e.g. for Postfix's `lmtp:unix:` transport. */
  lmtpSocket?: string;
  /** Overrides of the LMTP limits (src/lmtp/limits.ts); config file only. */
  lmtpLimits?: Record<string, number>;
  /** Separates user and detail in a recipient's local part; "" turns details off. */
  recipientDelimiter: string;
  /** Which part of a recipient address is the user name. */
  recipientUserName: (typeof RECIPIENT_USER_NAMES)[number];
  /** When delivery adds Delivered-To: (docs/delivery.md). */
  deliveredTo: (typeof DELIVERED_TO_MODES)[number];
  /** Deliver user+detail@… into the user's mailbox "detail" when it exists. */
  detailMailbox: boolean;
  /**
   * Proxies (HAProxy) whose connections start with a PROXY protocol v1/v2 header, as addresses or
   * CIDR ranges, on the IMAP, IMAPS, POP3, POP3S and LMTP TCP listeners. Empty: off.
   */
  trustedProxies: string[];
  /** Overrides of the PROXY protocol limits (maxHeaderBytes, headerTimeoutSeconds); config file only. */
  proxyLimits?: Record<string, number>;
  /** Protocol worker processes (`--workers`): a number from 1 to 64, or "auto" (one per core). */
  workers: number | 'auto';
  /** SQLite with `--workers`: 'forward' store calls to the primary, or each worker opens the store ('own-store'). */
  sqliteWorkers: SqliteWorkerMode;
  /** With `--workers`: the primary hands connections out in turn (default), or the kernel spreads them over the workers' accept() calls. */
  workerAccept: WorkerAcceptMode;
  /** The operations listener: /metrics, /healthz, /readyz (src/metrics/http.ts). Off by default. */
  metricsPort: PortSetting;
  metricsHost: string;
  /** The control socket of `postroom who|kick|mailbox|reload|backup…` (default DATA/control.sock). */
  controlSocket?: string;
  /** ManageSieve (RFC 5804), where users upload their Sieve scripts. Off by default (4190 in production). */
  managesievePort: PortSetting;
  /** Overrides of the ManageSieve limits (src/managesieve/limits.ts); config file only. */
  managesieveLimits?: Record<string, number>;
  /** Overrides of the Sieve limits (src/sieve/limits.ts); config file only. */
  sieveLimits?: Record<string, number>;
  /**
   * IMAP Sieve (RFC 6785): scripts run on APPEND, COPY/MOVE and flag changes, chosen per mailbox
   * with the /shared/imapsieve/script annotation. On when a ManageSieve server is known
   * (`managesievePort`, or `imapSieveUrl`); false turns it off.
   */
  imapSieve: boolean;
  /** The ManageSieve server advertised in IMAPSIEVE= (default sieve://HOSTNAME[:managesievePort]). */
  imapSieveUrl?: string;
  /** IMAP Sieve expunges the messages its scripts did not keep, instead of only marking them \Deleted. */
  imapSieveExpunge: boolean;
  /**
   * Where redirect and vacation send mail: smtp://host:port (an SMTP relay, e.g. the local MTA) or
   * sendmail:/path/to/sendmail. Without it, redirect and vacation are not carried out (logged).
   */
  sieveRelay?: string;
  /** A Sieve script run before every user's own script (administrators). */
  sieveBefore?: string;
  /** A Sieve script run after every user's own script, when it kept the message. */
  sieveAfter?: string;
  /** Thunderbird autoconfig answered over HTTP (src/autoconfig/). Off by default. */
  autoconfigPort: PortSetting;
  /** Address of the autoconfig listener (default: `host`). */
  autoconfigHost?: string;
  /**
   * V8's young generation: each of its two semi-spaces, in MiB (node's --min- and
   * --max-semi-space-size); 0 leaves V8's own sizing (up to 16 MiB). Fixed when the heap is made,
   * so serve starts itself again with the flag (src/cli/node-flags.ts). docs/operations.md.
   */
  v8SemiSpaceMb: number;
  /** V8 collects garbage on the main thread alone (node's --single-threaded-gc); same restart. */
  v8SingleThreadedGc: boolean;
  /**
   * V8 runs young-generation GCs as tasks of their own once the young generation is mostly full
   * (node's default, --minor-gc-task) instead of when it is full, inside the allocation that fills
   * it. Off by default: such a task runs right after the command that asked for it, and lands in
   * the next command of a client that sends back to back (src/cli/node-flags.ts). No restart.
   */
  v8MinorGcTask: boolean;
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
  literalMinus: false,
  tlsRecords: 'postroom',
  logLevel: 'info',
  demo: false,
  lmtpPort: 'off',
  lmtpHost: '127.0.0.1',
  lmtpAllowFrom: ['127.0.0.0/8', '::1'],
  admins: [],
  recipientDelimiter: '+',
  recipientUserName: 'auto',
  deliveredTo: 'single',
  detailMailbox: true,
  trustedProxies: [],
  workers: 1,
  sqliteWorkers: 'forward',
  workerAccept: 'primary',
  metricsPort: 'off',
  metricsHost: '127.0.0.1',
  managesievePort: 'off',
  imapSieve: true,
  imapSieveExpunge: false,
  sqliteDirectBodyWrites: false,
  autoconfigPort: 'off',
  v8SemiSpaceMb: 0,
  v8SingleThreadedGc: false,
  v8MinorGcTask: false,
  warmUp: true,
});

export type PartialSettings = Partial<ServeSettings>;

/** `list`: an array of strings, or one comma-separated string (flags); `text`: a string that may be empty. */
type Kind = 'string' | 'text' | 'boolean' | 'port' | 'path' | 'numbers' | 'list' | 'workers' | 'semiSpace' | { oneOf: readonly string[] };

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
  literalMinus: 'boolean',
  logLevel: { oneOf: LOG_LEVELS },
  demo: 'boolean',
  tlsKey: 'path',
  tlsCert: 'path',
  tlsRecords: { oneOf: TLS_RECORDS },
  hostname: 'string',
  user: 'string',
  group: 'string',
  imapLimits: 'numbers',
  pop3Limits: 'numbers',
  loginGuard: 'numbers',
  sqliteLimits: 'numbers',
  sqliteDirectBodyWrites: 'boolean',
  authCache: 'numbers',
  usersFile: 'numbers',
  warmUp: 'boolean',
  warmUpLimits: 'numbers',
  quota: 'numbers',
  admins: 'list',
  adminContact: 'string',
  lmtpPort: 'port',
  lmtpHost: 'string',
  lmtpAllowFrom: 'list',
  lmtpSocket: 'path',
  lmtpLimits: 'numbers',
  recipientDelimiter: 'text',
  recipientUserName: { oneOf: RECIPIENT_USER_NAMES },
  deliveredTo: { oneOf: DELIVERED_TO_MODES },
  detailMailbox: 'boolean',
  trustedProxies: 'list',
  proxyLimits: 'numbers',
  workers: 'workers',
  sqliteWorkers: { oneOf: SQLITE_WORKER_MODES },
  workerAccept: { oneOf: WORKER_ACCEPT_MODES },
  metricsPort: 'port',
  metricsHost: 'string',
  controlSocket: 'path',
  managesievePort: 'port',
  managesieveLimits: 'numbers',
  sieveLimits: 'numbers',
  imapSieve: 'boolean',
  imapSieveUrl: 'string',
  imapSieveExpunge: 'boolean',
  sieveRelay: 'string',
  sieveBefore: 'path',
  sieveAfter: 'path',
  autoconfigPort: 'port',
  autoconfigHost: 'string',
  v8SemiSpaceMb: 'semiSpace',
  v8SingleThreadedGc: 'boolean',
  v8MinorGcTask: 'boolean',
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
  if (kind === 'workers') return parseWorkersSetting(value, where);
  if (kind === 'semiSpace') return parseSemiSpace(value, where);
  if (kind === 'numbers') {
    // Names are checked against the defaults by the servers themselves (an unknown limit is an
    // error there, and so is 0 for a limit that cannot be switched off). null means 0: off.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: expected an object of numbers`);
    const numbers: Record<string, number> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === null) numbers[k] = 0;
      else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) numbers[k] = v;
      else throw new Error(`${where}.${k}: expected a number of 0 or more (0 or null: no limit, where that is allowed), got ${JSON.stringify(v)}`);
    }
    return numbers;
  }
  if (kind === 'list') {
    const items = typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value;
    if (!Array.isArray(items) || items.some((v) => typeof v !== 'string' || v === '')) {
      throw new Error(`${where}: expected a list of non-empty strings, got ${JSON.stringify(value)}`);
    }
    return items as string[];
  }
  if (kind === 'text') {
    if (typeof value !== 'string') throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
    return value;
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

/** `--workers N` / `"workers": N`: 1 to 64, or "auto". */
function parseWorkersSetting(value: unknown, where: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 64) {
    throw new Error(`${where}: expected a whole number from 1 to 64, or "auto", got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Largest semi-space accepted, MiB: V8 takes more, but two of them are resident memory. */
export const MAX_SEMI_SPACE_MB = 256;

/** `--v8-semi-space-mb N` / `"v8SemiSpaceMb": N`: 0 (V8's own sizing) or a whole number of MiB from 1 to 256. */
function parseSemiSpace(value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_SEMI_SPACE_MB) {
    throw new Error(`${where}: expected a whole number of MiB from 1 to ${MAX_SEMI_SPACE_MB}, or 0 for V8's own sizing, got ${JSON.stringify(value)}`);
  }
  return n;
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
