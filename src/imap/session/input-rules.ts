/**
 * What a session accepts as input, decided from its state and the limits alone (no I/O): the
 * framing bounds of the next read, how much it reads ahead, and whether a literal may be sent. The
 * connection applies the decisions (src/imap/session/connection.ts).
 */
import type { FrameBounds, LiteralRequest } from '../wire/framer.js';
import type { ResponseCode } from '../wire/types.js';
import type { ImapLimits } from '../limits.js';
import type { StateKind } from '../commands/types.js';
import type { CommandRegistry } from '../commands/registry.js';
import { peekCommand } from './dispatcher.js';

/**
 * Framing bounds for the next read. Before authentication a client needs only LOGIN,
 * AUTHENTICATE, STARTTLS, CAPABILITY, ID, NOOP and LOGOUT, so its commands are held to
 * maxUnauthCommandSize (as Dovecot's login processes cap their input at a few KB).
 */
export function frameBounds(limits: ImapLimits, state: StateKind): FrameBounds {
  if (state !== 'notAuthenticated') {
    return { maxLineLength: limits.maxLineLength, maxCommandSize: limits.maxCommandSize, maxLiterals: limits.maxLiteralsPerCommand };
  }
  return {
    maxLineLength: Math.min(limits.maxLineLength, limits.maxUnauthCommandSize),
    maxCommandSize: Math.min(limits.maxCommandSize, limits.maxUnauthCommandSize),
    maxLiterals: limits.maxLiteralsPerCommand,
  };
}

/**
 * Pipelined input read ahead before the socket is paused. Before authentication: twice the
 * longest line allowed then, the least that cannot leave a paused connection waiting for the rest
 * of a line it refuses to read (the rule resolveLimits() checks for maxPipelinedBytes).
 */
export function readAheadLimit(limits: ImapLimits, state: StateKind): number {
  return state === 'notAuthenticated' ? 2 * frameBounds(limits, state).maxLineLength + 2 : limits.maxPipelinedBytes;
}

export type LiteralVerdict =
  | { accept: true }
  /** The reply for a synchronising literal (tagged), or the BYE text for a non-synchronising one. */
  | { accept: false; tag: string; status: 'BAD' | 'NO'; text: string; code?: ResponseCode; byeCode?: ResponseCode };

export interface LiteralSession {
  limits: ImapLimits;
  registry: CommandRegistry;
  state: StateKind;
  enabled: ReadonlySet<string>;
  /** LITERAL- is advertised: non-synchronising literals stop at NON_SYNC_LITERAL_MINUS_MAX octets. */
  literalMinus?: boolean;
}

/** Commands whose literal is a message: APPEND, and REPLACE (RFC 8508, with APPEND's message syntax). */
const MESSAGE_COMMANDS: ReadonlySet<string> = new Set(['APPEND', 'REPLACE', 'UID REPLACE']);

/** RFC 7888 §5: the largest non-synchronising literal a LITERAL- server accepts. */
export const NON_SYNC_LITERAL_MINUS_MAX = 4096;

/** Whether a literal may be sent, decided before the `+` continuation (RFC 3501 §7.5, RFC 7888). */
export function judgeLiteral(req: LiteralRequest, session: LiteralSession): LiteralVerdict {
  const { limits, registry, state } = session;
  const peek = peekCommand(req.firstLine);
  const spec = peek ? registry.get(peek.name) : undefined;
  const tag = peek?.tag ?? '*';
  const refuse = (status: 'BAD' | 'NO', text: string, code?: ResponseCode): LiteralVerdict => ({ accept: false, tag, status, text, ...(code ? { code } : {}) });
  if (!spec) return refuse('BAD', 'Unknown command');
  if (!spec.states.includes(state)) return refuse('BAD', `${spec.name} is not allowed in this state`);
  // literal8 belongs to APPEND under BINARY (RFC 3516 §4.4) and to APPEND's UTF8 data once
  // UTF8=ACCEPT is enabled (RFC 6855 §4); otherwise `~{n}` is not in the grammar.
  // RFC 5464 §5: a SETMETADATA value may be a literal8 (binary data), BINARY or not.
  if (req.binary && !session.enabled.has('UTF8=ACCEPT') && spec.name !== 'SETMETADATA') {
    if (!registry.capabilities().includes('BINARY')) return refuse('BAD', 'literal8 (~{n}) is not accepted: this server does not offer BINARY');
    if (!MESSAGE_COMMANDS.has(spec.name)) return refuse('BAD', 'literal8 (~{n}) is allowed only in APPEND (RFC 3516)');
  }
  if (req.exceeds === 'literals') return refuse('BAD', `Too many literals in one command (limit ${limits.maxLiteralsPerCommand})`);
  if (req.exceeds === 'commandSize') {
    const before = state === 'notAuthenticated' ? ' before authentication' : '';
    return refuse('NO', `Command too large${before} (limit ${frameBounds(limits, state).maxCommandSize} octets)`, { name: 'TOOBIG' });
  }
  // RFC 7888 §5: past 4096 octets a LITERAL- client must synchronise; one that did not has its
  // bytes on the way, so the session ends with BYE [TOOBIG] (the framer closes it, §4).
  if (req.nonSync && session.literalMinus && req.size > NON_SYNC_LITERAL_MINUS_MAX) {
    const toobig: ResponseCode = { name: 'TOOBIG' };
    const text = `Non-synchronizing literal larger than ${NON_SYNC_LITERAL_MINUS_MAX} octets (LITERAL-)`;
    return { accept: false, tag, status: 'BAD', text, code: toobig, byeCode: toobig };
  }
  const max = spec.maxLiteralSize?.(limits) ?? limits.maxLiteralSize;
  if (req.size > max) return refuse('NO', `Literal too large (limit ${max} octets)`, spec.literalTooLargeCode?.(limits) ?? { name: 'TOOBIG' });
  return { accept: true };
}

/**
 * APPEND messages larger than this are handed to the store while they arrive instead of after
 * (src/imap/wire/framer.ts StreamedLiteral): the session then holds at most the read-ahead
 * (maxPipelinedBytes) of a message, whatever its size. Smaller ones are read whole first, which
 * costs nothing worth saving and keeps the common case on the simplest path.
 */
export const STREAM_APPEND_ABOVE = 64 * 1024;

/**
 * Whether an accepted literal is streamed: a message of a plain APPEND (`APPEND box [flags] [date]
 * {n}`, each message of an RFC 3502 MULTIAPPEND too), not literal8 nor the message inside
 * `UTF8 (...)`, whose closing parenthesis follows the literal. The command reads the rest of
 * itself after a streamed message (StreamedLiteral.rest()).
 */
export function streamsLiteral(req: LiteralRequest): boolean {
  if (req.binary || req.size <= STREAM_APPEND_ABOVE) return false;
  if (!MESSAGE_COMMANDS.has(peekCommand(req.firstLine)?.name ?? '')) return false;
  if (isCatenateLiteral(req)) return false;
  return !/\(\s*\{\d+\+?\}$/.test(req.line);
}

/**
 * A literal inside RFC 4469 CATENATE's list (`TEXT {n}`, `URL {n}`): read whole, since the list
 * goes on after it. On the first line it follows `CATENATE (`; on a later line (the text after a
 * literal) `TEXT`/`URL` cannot start anything else of an APPEND or REPLACE — a mailbox name named
 * TEXT comes only on the first line, before any CATENATE.
 */
function isCatenateLiteral(req: LiteralRequest): boolean {
  if (req.index === 0) return /\sCATENATE\s+\(\s*(?:TEXT|URL)\s+\{\d+\+?\}$/i.test(req.line);
  return /(?:^|[\s(])(?:TEXT|URL)\s+\{\d+\+?\}$/i.test(req.line);
}
