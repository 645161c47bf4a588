/**
 * One input line → one reply. The only place that writes "+OK" and "-ERR": it looks the command
 * up, checks the state, parses, runs, and turns whatever was thrown into -ERR through errors.ts.
 * Every refusal says why, and the session serves on — unless too many were bad in a row of misuse.
 */
import type { Pop3Command, Pop3Context, Pop3Reply } from '../commands/types.js';
import { CommandSyntaxError, parseCommandLine, printable, type CommandLine } from '../wire/command-line.js';
import type { FramedItem } from '../wire/framer.js';
import { MultilineEncoder } from '../wire/multiline.js';
import { TimeSlice } from '../../util/time-slice.js';
import { Pop3Error, toPop3ErrorReply, type Pop3ResponseCode } from '../errors.js';
import type { SocketWriter } from './writer.js';
import { loginAttempts } from './login.js';
import type { CommandResult } from '../../metrics/types.js';

export type AfterReply = 'close' | 'starttls' | undefined;

export interface DispatchTarget {
  ctx: Pop3Context;
  commands: ReadonlyMap<string, Pop3Command>;
  writer: SocketWriter;
  /** Bad commands so far on this connection. */
  badCommands: number;
  /** Commands run so far (the onCommand hook's `index`). */
  commandIndex: number;
}

/** A reply line, cut to RFC 1939 §3's 512 octets (CRLF included) so a long reason cannot break it. */
export function statusLine(ok: boolean, text: string, code?: Pop3ResponseCode): string {
  const head = ok ? '+OK' : '-ERR';
  const body = code ? `[${code}] ${text}` : text;
  const line = body.length > 0 ? `${head} ${body}` : head;
  const bytes = Buffer.from(line, 'utf8');
  return bytes.length <= 510 ? `${line}\r\n` : `${bytes.subarray(0, 510).toString('utf8').replace(/\uFFFD$/, '')}\r\n`;
}

const STATE_HINT: Record<string, string> = {
  authorization: 'before login',
  transaction: 'after login',
  update: 'now',
};

/** Runs one line and reports it to the metrics: the command's table name (or "unknown") and how it ended. */
export async function dispatch(target: DispatchTarget, item: FramedItem): Promise<AfterReply> {
  const started = performance.now();
  const outcome: Outcome = { command: 'unknown', result: 'bad' };
  try {
    return await run(target, item, outcome);
  } finally {
    target.ctx.services.metrics.command(outcome.command, outcome.result, (performance.now() - started) / 1000);
  }
}

interface Outcome {
  command: string;
  result: CommandResult;
}

async function run(target: DispatchTarget, item: FramedItem, outcome: Outcome): Promise<AfterReply> {
  const { ctx, writer } = target;
  const logger = ctx.logger;
  if (item.kind === 'overlong') {
    return refuse(target, `Line too long (${item.length} octets, limit ${ctx.services.limits.maxLineLength})`);
  }
  let line: CommandLine;
  try {
    line = parseCommandLine(item.text);
  } catch (err) {
    return refuse(target, err instanceof Error ? err.message : 'Syntax error');
  }
  const command = target.commands.get(line.keyword);
  logger?.debug({ command: line.keyword, args: command?.sensitive ? '[redacted]' : line.rest }, 'command');
  if (!command) return refuse(target, `Unknown command: ${printable(line.keyword)}`);
  outcome.command = command.name;
  if (!command.states.includes(ctx.state.name)) {
    return refuse(target, `${command.name} is not valid ${STATE_HINT[ctx.state.name] ?? 'in this state'}`);
  }
  let args: unknown;
  try {
    args = command.parse(line);
  } catch (err) {
    if (err instanceof CommandSyntaxError) return refuse(target, err.message);
    throw err;
  }
  noteLoginAttempt(ctx, command.name, line);
  // A thrown error below is a -ERR from the command itself, not a bad command.
  outcome.result = 'no';
  let reply: Pop3Reply;
  try {
    const hook = ctx.services.hooks.onCommand;
    if (hook) await hook({ ...ctx.connection, command: command.name, state: ctx.state.name, index: target.commandIndex++ });
    reply = await command.run(ctx, args);
  } catch (err) {
    const e = toPop3ErrorReply(err);
    if (e.unexpected) logger?.error({ err, command: command.name }, 'command failed');
    await writer.write(statusLine(false, e.text, e.code));
    return e.close ? 'close' : undefined;
  }
  outcome.result = 'ok';
  await writeReply(target, reply);
  return reply.then;
}

/** Remembers mechanism and claimed user of a login command for the audit log (never the secret). */
function noteLoginAttempt(ctx: Pop3Context, name: string, line: CommandLine): void {
  if (name === 'PASS') {
    const state = ctx.state;
    loginAttempts.set(ctx, { mechanism: 'USER', user: state.name === 'authorization' ? state.pendingUser : undefined });
  } else if (name === 'APOP') {
    loginAttempts.set(ctx, { mechanism: 'APOP', user: line.args[0] });
  } else if (name === 'AUTH' && line.args[0] !== undefined) {
    loginAttempts.set(ctx, { mechanism: line.args[0].toUpperCase().slice(0, 20) });
  }
}

async function refuse(target: DispatchTarget, reason: string): Promise<AfterReply> {
  target.badCommands += 1;
  const max = target.ctx.services.limits.maxBadCommands;
  if (target.badCommands >= max) {
    await target.writer.write(statusLine(false, `${reason}; too many bad commands, closing connection`));
    return 'close';
  }
  await target.writer.write(statusLine(false, reason));
  return undefined;
}

/** Lines of a LIST/UIDL answer encoded and written at a time. */
const LINES_PER_WRITE = 1_000;

async function writeReply(target: DispatchTarget, reply: Pop3Reply): Promise<void> {
  const { writer } = target;
  const body = reply.body;
  if (!body) {
    await writer.write(statusLine(true, reply.text));
    return;
  }
  if (body.kind === 'lines') {
    // In pieces of LINES_PER_WRITE, yielding between them when the time slice is used up: LIST or
    // UIDL of a 100,000-message maildrop was one string of 2 MB built and encoded in one stretch.
    const enc = new MultilineEncoder();
    const slice = new TimeSlice();
    let head: Buffer | null = Buffer.from(statusLine(true, reply.text));
    for (let i = 0; i < body.lines.length || head; i += LINES_PER_WRITE) {
      const text = body.lines
        .slice(i, i + LINES_PER_WRITE)
        .map((l) => `${l}\r\n`)
        .join('');
      const last = i + LINES_PER_WRITE >= body.lines.length;
      const parts = [enc.push(Buffer.from(text, 'latin1'))];
      if (head) parts.unshift(head);
      if (last) parts.push(enc.end());
      head = null;
      await writer.write(Buffer.concat(parts));
      if (last) break;
      await slice.pause();
    }
    return;
  }
  // Take the first chunk before "+OK": a message that cannot be read still gets an honest -ERR.
  const it = body.content[Symbol.asyncIterator]();
  let next: IteratorResult<Buffer>;
  try {
    next = await it.next();
  } catch (err) {
    const e = toPop3ErrorReply(err);
    if (e.unexpected) target.ctx.logger?.error({ err }, 'message read failed');
    await writer.write(statusLine(false, e.text, e.code));
    return;
  }
  await writer.write(statusLine(true, reply.text));
  const enc = new MultilineEncoder({ bodyLines: body.bodyLines });
  try {
    while (!next.done) {
      const out = enc.push(next.value);
      if (out.length > 0) await writer.write(out);
      if (enc.done) break;
      next = await it.next();
    }
  } catch (err) {
    // The +OK is out: there is no way to say -ERR now, and a short message must not pass as whole.
    target.ctx.logger?.error({ err }, 'message stream failed');
    throw new Pop3Error('Message stream failed', 'SYS/TEMP', true);
  } finally {
    if (!next.done) await it.return?.().catch(() => undefined);
  }
  await writer.write(enc.end());
  body.onSent?.();
}
