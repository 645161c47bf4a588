/**
 * Test helpers for the mailbox commands: tokens from command text (through the real tokenizer), and
 * a CommandContext over a MemoryStore that records what the command wrote, encoded as wire lines.
 */
import pino from 'pino';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { encodeResponse } from '../../src/imap/wire/encoder.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { toErrorReply } from '../../src/imap/errors.js';
import type { Token, ImapValue, ResponseCode, Response } from '../../src/imap/wire/types.js';
import type { CommandContext, CommandSpec, ParseEnv, ServerContext, SelectedView } from '../../src/imap/commands/types.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { UserMailbox } from '../../src/store/types.js';
import { responsesOf } from './encoded-lines.js';

/** untaggedLines() output as responses (encoded-lines.ts). */
const linesOf = (text: string | Buffer[]): string[] => responsesOf(text, 'utf8');

/** Argument tokens of `text` (the arguments only; literals given as `{n}` + extra segments). */
export function tokens(text: string, literals: string[] = []): Token[] {
  const segments = text.split(/(?<=\{\d+\+?\})/);
  while (segments.length < literals.length + 1) segments.push('');
  return parseCommand(
    // The framer hands over text as latin1 (one character per byte), so 8-bit input is made the same way.
    { text: segments.map((s, i) => Buffer.from(i === 0 ? `t CMD ${s}` : s, 'utf8').toString('latin1')), literals: literals.map((l) => [Buffer.from(l, 'utf8')]), size: 0 },
    DEFAULT_IMAP_LIMITS,
  ).args;
}

export function env(enabled: string[] = []): ParseEnv {
  return { enabled: new Set(enabled), limits: DEFAULT_IMAP_LIMITS };
}

export interface Harness {
  store: MemoryStore;
  mail: UserMailbox;
  ctx: CommandContext;
  enabled: Set<string>;
  /** Every response written so far, as wire text without CRLF. */
  lines: string[];
  /** Parses then runs `spec` with `args`, returning the tagged completion as it would be written. */
  exec<A>(spec: CommandSpec<A>, args: string, options?: { literals?: string[] }): Promise<string>;
}

export async function harness(options: { delimiter?: string; enabled?: string[]; selected?: { highestModseq: number } } = {}): Promise<Harness> {
  const store = new MemoryStore(options.delimiter ? { delimiter: options.delimiter } : {});
  const mail = await store.open('alice', { origin: 'test' });
  const enabled = new Set(options.enabled ?? []);
  const lines: string[] = [];
  const write = (r: Response): void => {
    const chunks = encodeResponse(r, { utf8: enabled.has('UTF8=ACCEPT') });
    lines.push(Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : Buffer.alloc(0)))).toString('utf8').replace(/\r\n$/, ''));
  };
  const server: ServerContext = {
    store,
    auth: { authenticate: async () => null } as unknown as ServerContext['auth'],
    limits: DEFAULT_IMAP_LIMITS,
    allowInsecureAuth: true,
    id: {},
    logger: pino({ level: 'silent' }),
    capabilities: () => [],
  };
  const unsupported = (): never => {
    throw new Error('not available in this test context');
  };
  const state = options.selected
    ? { kind: 'selected' as const, user: 'alice', mail, view: { highestModseq: options.selected.highestModseq } as SelectedView }
    : { kind: 'authenticated' as const, user: 'alice', mail };
  const ctx: CommandContext = {
    tag: 't',
    command: 'TEST',
    connection: { id: 'test', remoteAddress: '127.0.0.1', remotePort: 1, secure: false, canStartTls: false },
    server,
    state,
    logger: server.logger,
    enabled,
    untagged: (...values: ImapValue[]) => write({ type: 'data', values }),
    untaggedLines: (text: string | Buffer[]) => lines.push(...linesOf(text)),
    untaggedStatus: (status: 'OK' | 'NO' | 'BAD' | 'BYE', text: string, code?: ResponseCode) => write({ type: 'status', tag: '*', status, text, code }),
    drain: async () => undefined,
    progress: () => undefined,
    continuation: unsupported,
    idle: unsupported,
    setState: unsupported,
    startTls: unsupported,
    startCompression: unsupported,
    setNotify: unsupported,
    login: unsupported,
    saslContext: unsupported,
    select: unsupported,
    close: unsupported,
    unauthenticate: unsupported,
  } as CommandContext;
  return {
    store,
    mail,
    ctx,
    enabled,
    lines,
    async exec(spec, args, opts = {}) {
      try {
        const parsed = spec.parse(tokens(args, opts.literals), { enabled, limits: DEFAULT_IMAP_LIMITS });
        const done = (await spec.run(ctx, parsed)) ?? {};
        write({ type: 'status', tag: 't', status: 'OK', text: done.text ?? 'done', code: done.code });
      } catch (err) {
        const reply = toErrorReply(err);
        write({ type: 'status', tag: 't', status: reply.status === 'BYE' ? 'NO' : reply.status, text: reply.text, code: reply.code });
      }
      return lines[lines.length - 1] as string;
    },
  };
}
