/**
 * Valid IMAP commands to start from, and the ways the fuzzers corrupt them. Shared by the
 * fast-check properties and the live-server run so both explore the same neighbourhood.
 */
import fc from 'fast-check';

/** Commands valid in the authenticated or selected state (no LOGOUT, STARTTLS, IDLE: they end or hang the run). */
export const VALID_COMMANDS: readonly string[] = [
  'NOOP',
  'CAPABILITY',
  'CHECK',
  'NAMESPACE',
  'ID ("name" "fuzz")',
  'ID NIL',
  'ENABLE CONDSTORE',
  'LIST "" "*"',
  'LIST "" "%"',
  'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN STATUS (MESSAGES))',
  'LSUB "" "*"',
  'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)',
  'SELECT INBOX',
  'EXAMINE INBOX',
  'CREATE fuzz/a',
  'RENAME fuzz/a fuzz/b',
  'DELETE fuzz/b',
  'SUBSCRIBE INBOX',
  'UNSUBSCRIBE fuzz',
  'FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)',
  'FETCH 1 (ENVELOPE BODYSTRUCTURE)',
  'FETCH 1:2 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[TEXT]<0.10>)',
  'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)',
  'FETCH 1 BODY.PEEK[1.MIME]',
  'SEARCH ALL',
  'SEARCH OR SUBJECT hello NOT SEEN LARGER 10',
  'SEARCH SINCE 1-Jan-2020 BEFORE 1-Jan-2030 TEXT "x"',
  'UID SEARCH RETURN (MIN MAX COUNT) UID 1:*',
  'SEARCH CHARSET UTF-8 BODY {3}\r\nabc',
  'STORE 1 +FLAGS (\\Seen)',
  'STORE 1:* -FLAGS.SILENT (\\Flagged)',
  'UID STORE 1:* +FLAGS (fuzzkw)',
  'COPY 1 INBOX',
  'UID COPY 1:3 INBOX',
  'MOVE 1 INBOX',
  'EXPUNGE',
  'UID EXPUNGE 1:*',
  'CLOSE',
  'UNSELECT',
  'APPEND INBOX (\\Seen) {23}\r\nSubject: fuzz\r\n\r\nbody\r\n',
  'APPEND INBOX "1-Jan-2024 10:00:00 +0000" {4+}\r\nx\r\n',
];

/**
 * POP3 commands valid in the TRANSACTION state (no QUIT: it would end the run's session and expunge;
 * no STLS). Message numbers stay within the maildrops the run prepares (20 messages).
 */
export const VALID_POP3_COMMANDS: readonly string[] = [
  'STAT',
  'LIST',
  'LIST 3',
  'LIST 99',
  'UIDL',
  'UIDL 2',
  'RETR 1',
  'RETR 7',
  'TOP 4 0',
  'TOP 5 3',
  'DELE 6',
  'RSET',
  'NOOP',
  'CAPA',
  'USER someone',
  'PASS nothing',
  'AUTH PLAIN',
  'APOP x 0123456789abcdef0123456789abcdef',
];

/** A corruption applied to a valid command's bytes. */
export type Corruption =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'none' };

export const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 2 },
);

/** Applies a corruption to the text of a command (without its tag and final CRLF). */
export function corrupt(command: Buffer, c: Corruption): Buffer {
  if (c.kind === 'none' || command.length === 0) return command;
  const at = c.at % command.length;
  switch (c.kind) {
    case 'flip': {
      const out = Buffer.from(command);
      out[at] = c.byte;
      return out;
    }
    case 'truncate':
      return command.subarray(0, at);
    case 'insert':
      return Buffer.concat([command.subarray(0, at), Buffer.from(c.bytes), command.subarray(at)]);
    case 'duplicate':
      return Buffer.concat([command.subarray(0, at + c.length), command.subarray(at)]);
  }
}

/**
 * A corrupted command can announce a literal it never sends (`{999}` with no bytes after), which
 * would swallow the commands after it. The live run ends each fuzzed command with this, so any
 * open literal or quoted string is closed and the stream resynchronises at the next tag.
 */
export function framed(tag: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${tag} `), body, Buffer.from('\r\n')]);
}
