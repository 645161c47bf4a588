/**
 * What each command and test takes (RFC 5228 §3–§5 and the extensions): the extension that
 * enables it, its tags, its positional arguments, and whether it has tests or a block. The
 * validator (validate.ts) checks scripts against this table; adding a command is adding a row.
 */

export type ValueKind = 'string' | 'strings' | 'number';

export interface TagSpec {
  /** The value that follows the tag, if any. */
  value?: ValueKind;
  /** Tags of one group exclude each other (:over/:under, :raw/:content/:text, …). */
  group?: string;
  /** The extension the tag belongs to, when not that of its command. */
  ext?: string;
}

export interface CommandSpec {
  kind: 'command' | 'test';
  /** The extension that must be required; absent for the base language. Several: any of them. */
  ext?: string[];
  tags?: Record<string, TagSpec>;
  /** Takes :comparator, a match type and (address tests) an address part. */
  compares?: boolean;
  addressPart?: boolean;
  positional: ValueKind[];
  /** Positional arguments that may be left out, from the front (setflag's optional variable name). */
  optionalLeading?: number;
  /** Positional arguments that may be left out at the end (deleteheader's value patterns). */
  optionalTrailing?: number;
  tests?: 'one' | 'list';
  block?: boolean;
}

/** RFC 5260 §6 index: which occurrence of a field a test looks at, counted from the top or (:last) the bottom. */
const INDEX_TAGS: Record<string, TagSpec> = {
  index: { value: 'number', ext: 'index' },
  last: { ext: 'index' },
};

const ZONE_TAGS: Record<string, TagSpec> = {
  zone: { value: 'string', group: 'zone' },
  originalzone: { group: 'zone' },
  ...INDEX_TAGS,
};

export const SPECS: Record<string, CommandSpec> = {
  // RFC 5228 §3: control
  require: { kind: 'command', positional: ['strings'] },
  if: { kind: 'command', positional: [], tests: 'one', block: true },
  elsif: { kind: 'command', positional: [], tests: 'one', block: true },
  else: { kind: 'command', positional: [], block: true },
  stop: { kind: 'command', positional: [] },
  // §4: actions
  keep: { kind: 'command', positional: [], tags: { flags: { value: 'strings', ext: 'imap4flags' } } },
  discard: { kind: 'command', positional: [] },
  redirect: { kind: 'command', positional: ['string'], tags: { copy: { ext: 'copy' } } },
  fileinto: {
    kind: 'command',
    ext: ['fileinto'],
    positional: ['string'],
    tags: { copy: { ext: 'copy' }, create: { ext: 'mailbox' }, flags: { value: 'strings', ext: 'imap4flags' } },
  },
  reject: { kind: 'command', ext: ['reject'], positional: ['string'] },
  ereject: { kind: 'command', ext: ['ereject'], positional: ['string'] },
  // §5: tests
  address: { kind: 'test', compares: true, addressPart: true, positional: ['strings', 'strings'], tags: INDEX_TAGS },
  envelope: { kind: 'test', ext: ['envelope'], compares: true, addressPart: true, positional: ['strings', 'strings'] },
  header: { kind: 'test', compares: true, positional: ['strings', 'strings'], tags: INDEX_TAGS },
  exists: { kind: 'test', positional: ['strings'] },
  size: { kind: 'test', positional: ['number'], tags: { over: { group: 'size' }, under: { group: 'size' } } },
  allof: { kind: 'test', positional: [], tests: 'list' },
  anyof: { kind: 'test', positional: [], tests: 'list' },
  not: { kind: 'test', positional: [], tests: 'one' },
  true: { kind: 'test', positional: [] },
  false: { kind: 'test', positional: [] },
  // RFC 5490 mailbox
  mailboxexists: { kind: 'test', ext: ['mailbox'], positional: ['strings'] },
  // RFC 5232 imap4flags
  setflag: { kind: 'command', ext: ['imap4flags'], positional: ['string', 'strings'], optionalLeading: 1 },
  addflag: { kind: 'command', ext: ['imap4flags'], positional: ['string', 'strings'], optionalLeading: 1 },
  removeflag: { kind: 'command', ext: ['imap4flags'], positional: ['string', 'strings'], optionalLeading: 1 },
  hasflag: { kind: 'test', ext: ['imap4flags'], compares: true, positional: ['strings', 'strings'], optionalLeading: 1 },
  // RFC 5229 variables
  set: {
    kind: 'command',
    ext: ['variables'],
    positional: ['string', 'string'],
    tags: {
      lower: { group: 'mod40' },
      upper: { group: 'mod40' },
      lowerfirst: { group: 'mod30' },
      upperfirst: { group: 'mod30' },
      quotewildcard: { group: 'mod20' },
      length: { group: 'mod10' },
    },
  },
  string: { kind: 'test', ext: ['variables'], compares: true, positional: ['strings', 'strings'] },
  // RFC 5173 body
  body: {
    kind: 'test',
    ext: ['body'],
    compares: true,
    positional: ['strings'],
    tags: { raw: { group: 'transform' }, content: { group: 'transform', value: 'strings' }, text: { group: 'transform' } },
  },
  // RFC 5230 vacation (and RFC 6131 :seconds)
  vacation: {
    kind: 'command',
    ext: ['vacation', 'vacation-seconds'],
    positional: ['string'],
    tags: {
      days: { value: 'number', group: 'period' },
      seconds: { value: 'number', group: 'period', ext: 'vacation-seconds' },
      subject: { value: 'string' },
      from: { value: 'string' },
      addresses: { value: 'strings' },
      mime: {},
      handle: { value: 'string' },
    },
  },
  // RFC 5463 ihave
  ihave: { kind: 'test', ext: ['ihave'], positional: ['strings'] },
  error: { kind: 'command', ext: ['ihave'], positional: ['string'] },
  // RFC 5183 environment
  environment: { kind: 'test', ext: ['environment'], compares: true, positional: ['string', 'strings'] },
  // RFC 5293 editheader
  addheader: { kind: 'command', ext: ['editheader'], positional: ['string', 'string'], tags: { last: {} } },
  deleteheader: {
    kind: 'command',
    ext: ['editheader'],
    compares: true,
    positional: ['string', 'strings'],
    optionalTrailing: 1,
    tags: { index: { value: 'number' }, last: {} },
  },
  // RFC 5260 date
  date: { kind: 'test', ext: ['date'], compares: true, positional: ['string', 'string', 'strings'], tags: ZONE_TAGS },
  currentdate: { kind: 'test', ext: ['date'], compares: true, positional: ['string', 'strings'], tags: { zone: { value: 'string' } } },
};

/** The match types (RFC 5228 §2.7.1, RFC 5231): relational ones take an operator. */
export const MATCH_TAGS: Record<string, { ext?: string; value?: boolean }> = {
  is: {},
  contains: {},
  matches: {},
  count: { ext: 'relational', value: true },
  value: { ext: 'relational', value: true },
};

export const ADDRESS_PART_TAGS: Record<string, { ext?: string }> = {
  all: {},
  localpart: {},
  domain: {},
  user: { ext: 'subaddress' },
  detail: { ext: 'subaddress' },
};

export const RELATIONAL_OPS: ReadonlySet<string> = new Set(['gt', 'ge', 'lt', 'le', 'eq', 'ne']);

/** Comparators (RFC 4790 §9): the first two need no require (RFC 5228 §2.7.3). */
export const COMPARATORS: ReadonlySet<string> = new Set(['i;octet', 'i;ascii-casemap', 'i;ascii-numeric']);

/** The date parts of RFC 5260 §4.2. */
export const DATE_PARTS: ReadonlySet<string> = new Set([
  'year', 'month', 'day', 'date', 'julian', 'hour', 'minute', 'second', 'time', 'iso8601', 'std11', 'zone', 'weekday',
]);

/**
 * Header fields that hold addresses; the `address` test refuses others (RFC 5228 §5.1 asks
 * implementations to restrict it to them), as Pigeonhole does.
 */
export const ADDRESS_HEADERS: ReadonlySet<string> = new Set([
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc',
  'resent-from', 'resent-sender', 'resent-reply-to', 'resent-to', 'resent-cc', 'resent-bcc',
  'return-path', 'return-receipt-to', 'disposition-notification-to', 'errors-to', 'delivered-to',
  'x-original-to', 'envelope-to', 'x-envelope-to', 'apparently-to', 'mail-followup-to', 'mail-reply-to',
]);

/**
 * The capabilities this implementation offers (RFC 5228 §6: the names `require` accepts), as
 * ManageSieve lists them. "comparator-i;octet" and "comparator-i;ascii-casemap" are always
 * available and accepted by require, but, as Dovecot and Cyrus do, not listed.
 */
export const SIEVE_EXTENSIONS: readonly string[] = [
  'fileinto', 'reject', 'ereject', 'envelope', 'encoded-character', 'comparator-i;ascii-numeric',
  'copy', 'mailbox', 'imap4flags', 'variables', 'subaddress', 'relational', 'body', 'vacation',
  'vacation-seconds', 'date', 'index', 'editheader', 'environment', 'ihave', 'imapsieve',
];

/**
 * RFC 6785 §3.11: actions made for delivery; in a run for an IMAP event, requiring or using them
 * is an error that ends the script.
 */
export const DELIVERY_ONLY_EXTENSIONS: readonly string[] = ['reject', 'ereject', 'vacation', 'vacation-seconds'];

export const IMPLICIT_EXTENSIONS: readonly string[] = ['comparator-i;octet', 'comparator-i;ascii-casemap'];
