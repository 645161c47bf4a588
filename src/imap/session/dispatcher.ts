/**
 * Turns one framed command into exactly one tagged completion. Only this file writes tagged lines:
 * parse errors become BAD, thrown errors go through toErrorReply() (src/imap/errors.ts), and pending
 * updates from other sessions are reported before the completion where RFC 3501 §7.4.1 allows.
 */
import type { FramedCommand } from '../wire/types.js';
import type { StateKind } from '../commands/types.js';
import { parseCommand, CommandSyntaxError } from '../wire/tokenizer.js';
import { ImapError, toErrorReply } from '../errors.js';
import { LiteralRefusedError, StreamedLiteralError } from '../wire/framer.js';
import type { ImapConnection } from './connection.js';
import { createCommandContext } from './context.js';
import type { CommandResult } from '../../metrics/types.js';

/** What the metrics hear of a command: its table name (or "unknown") and how it ended. */
export interface CommandOutcome {
  command: string;
  result: CommandResult;
}

const UNKNOWN = 'unknown';

/** Tag and command name from the start of a command, before it is complete (for the literal gate). */
export function peekCommand(text: string): { tag: string; name: string } | null {
  const m = /^([^\s(){%*"\\]+) +([A-Za-z][A-Za-z0-9.-]*)(?: +([A-Za-z]+))?/.exec(text);
  if (!m) return null;
  const name = m[2]!.toUpperCase();
  return { tag: m[1]!, name: name === 'UID' && m[3] ? `UID ${m[3].toUpperCase()}` : name };
}

/** Why a command may not run now, in the client's terms (RFC 3501 §3 states). */
function stateRefusal(name: string, allowed: readonly StateKind[], state: StateKind): string {
  if (state === 'notAuthenticated') return `${name} is not allowed before authentication`;
  if (!allowed.includes('authenticated') && !allowed.includes('selected')) return `${name} is not allowed once authenticated`;
  if (state === 'authenticated') return `${name} is not allowed without a selected mailbox`;
  return `${name} is not allowed with a mailbox selected`;
}

/**
 * Counts one BAD reply. The session ends after maxBadCommands of them in a row: a client stuck
 * sending garbage is cut off, while one that stays connected for days and now and then tries a
 * command this server lacks is not (the count restarts at every command that is not BAD).
 */
function badCommand(conn: ImapConnection): void {
  conn.badCommands++;
  if (conn.badCommands >= conn.server.limits.maxBadCommands) {
    conn.status('*', 'BYE', 'Too many invalid commands');
    conn.close();
  }
}

/** The answer for a command whose streamed literal (or a literal after it) could not be read. */
function brokenLiteralError(broken: Error): ImapError {
  if (broken instanceof LiteralRefusedError) {
    const { status, text, code } = broken.refusal;
    return status === 'NO' ? ImapError.no(text, code) : ImapError.bad(text, code);
  }
  return broken instanceof StreamedLiteralError && !broken.fatal ? ImapError.bad(broken.message) : ImapError.bye(broken.message);
}

/** Runs one command and reports it to the server's metrics (a counter and a histogram update). */
export async function dispatch(conn: ImapConnection, framed: FramedCommand): Promise<void> {
  const started = performance.now();
  const outcome = await run(conn, framed);
  conn.server.metrics.command(outcome.command, outcome.result, (performance.now() - started) / 1000);
}

/**
 * A command whose literal is still arriving (a streamed APPEND) answers only once the client has
 * sent all of it: the rest is read and dropped if the command ended early (a NO before the store
 * took the message), so none of it is ever taken for a command. (A function of the module, not a
 * closure made per command: see context.ts.)
 */
async function settleLiteral(framed: FramedCommand): Promise<void> {
  if (framed.streamed) await framed.streamed.drain();
}

async function run(conn: ImapConnection, framed: FramedCommand): Promise<CommandOutcome> {
  const limits = conn.server.limits;
  let parsed;
  try {
    parsed = parseCommand(framed, limits);
  } catch (err) {
    const tag = err instanceof CommandSyntaxError && err.tag ? err.tag : '*';
    await settleLiteral(framed);
    conn.status(tag, 'BAD', err instanceof Error ? err.message : 'Syntax error');
    badCommand(conn);
    return { command: UNKNOWN, result: 'bad' };
  }
  const { tag } = parsed;
  let name = parsed.name;
  let args = parsed.args;
  if (name === 'UID') {
    const sub = args[0];
    if (!sub || sub.type !== 'atom') {
      await settleLiteral(framed);
      conn.status(tag, 'BAD', 'UID needs a command');
      badCommand(conn);
      return { command: UNKNOWN, result: 'bad' };
    }
    name = `UID ${sub.value.toUpperCase()}`;
    args = args.slice(1);
  }

  if (conn.state.kind === 'notAuthenticated' && ++conn.commandsBeforeAuth > limits.unauthCommands) {
    conn.status('*', 'BYE', 'Too many commands before authentication');
    conn.close();
    return { command: conn.server.registry.get(name)?.name ?? UNKNOWN, result: 'bye' };
  }

  const spec = conn.server.registry.get(name);
  if (!spec) {
    await settleLiteral(framed);
    conn.status(tag, 'BAD', `Unknown command ${name.slice(0, 40)}`);
    badCommand(conn);
    return { command: UNKNOWN, result: 'bad' };
  }
  if (!spec.states.includes(conn.state.kind)) {
    await settleLiteral(framed);
    conn.status(tag, 'BAD', stateRefusal(name, spec.states, conn.state.kind));
    badCommand(conn);
    return { command: spec.name, result: 'bad' };
  }

  // RFC 9586 §3: once UIDONLY is on, a command with message sequence numbers is BAD [UIDREQUIRED].
  if (spec.sequenceNumbers && conn.enabled.has('UIDONLY')) {
    await settleLiteral(framed);
    conn.status(tag, 'BAD', `${spec.name} takes message sequence numbers, not used once UIDONLY is enabled; use UID ${spec.name}`, { name: 'UIDREQUIRED' });
    badCommand(conn);
    return { command: spec.name, result: 'bad' };
  }

  // Tokenizing and parsing a large command each take a few ms; other clients get a turn between.
  // (Checked before awaiting: most commands are small, and an await is a turn of the microtask
  // queue and a promise each — this path runs for every command.)
  if (conn.sliceDue) await conn.pause();
  let commandArgs: unknown;
  try {
    commandArgs = spec.parse(args, { enabled: conn.enabled, limits });
  } catch (err) {
    const reply = toErrorReply(err);
    await settleLiteral(framed);
    conn.status(tag, reply.status === 'BYE' ? 'BAD' : reply.status, reply.text, reply.code);
    badCommand(conn);
    return { command: spec.name, result: reply.status === 'NO' ? 'no' : 'bad' };
  }

  if (conn.sliceDue) await conn.pause();
  conn.logger.debug({ tag, command: name, args: spec.sensitive ? '[redacted]' : undefined }, 'command');
  const ctx = createCommandContext(conn, tag, name);
  const progress = spec.reportsProgress ? conn.startProgress(tag) : null;
  try {
    const hook = conn.server.hooks.onCommand;
    if (hook) await hook({ ...conn.sessionInfo(), tag, command: spec.name === name ? name : name, state: conn.state.kind, mailbox: conn.selectedMailbox, index: conn.commandIndex++ });
    const completion = await spec.run(ctx, commandArgs);
    if (!conn.ending && conn.hasUpdates) await conn.flushUpdates(!spec.noExpunge);
    if (framed.streamed) await settleLiteral(framed);
    conn.status(tag, 'OK', completion?.text ?? `${name} completed`, completion?.code);
    conn.badCommands = 0;
    return { command: spec.name, result: 'ok' };
  } catch (caught) {
    // A streamed literal that broke (the client went on after it, or went away) explains the
    // failure better than whatever the store made of the aborted stream.
    const broken = framed.streamed?.failure;
    const err = broken ? brokenLiteralError(broken) : caught;
    const reply = toErrorReply(err);
    if (reply.unexpected) conn.logger.error({ err, command: name }, 'command failed');
    if (reply.status === 'BYE') {
      conn.status('*', 'BYE', reply.text);
      conn.close();
      return { command: spec.name, result: 'bye' };
    }
    try {
      if (!conn.ending) await conn.flushUpdates(!spec.noExpunge);
    } catch (flushErr) {
      conn.logger.error({ err: flushErr }, 'update flush failed');
    }
    await settleLiteral(framed);
    conn.status(tag, reply.status, reply.text, reply.code);
    if (reply.status === 'BAD') badCommand(conn);
    else conn.badCommands = 0;
    return { command: spec.name, result: reply.status === 'NO' ? 'no' : 'bad' };
  } finally {
    progress?.stop();
    if (conn.progress === progress) conn.progress = null;
  }
}
