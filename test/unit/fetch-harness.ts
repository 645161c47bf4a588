/**
 * Test helpers for FETCH: a MemoryStore with a selected mailbox, a real SelectedMailboxView, and a
 * CommandContext that records every response fully encoded (streamed literals included).
 */
import pino from 'pino';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { encodeResponse } from '../../src/imap/wire/encoder.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { toErrorReply } from '../../src/imap/errors.js';
import type { ImapValue, ResponseCode, Response, Token } from '../../src/imap/wire/types.js';
import type { CommandContext, CommandSpec, ServerContext } from '../../src/imap/commands/types.js';
import { SelectedMailboxView } from '../../src/imap/session/selected-view.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { UserMailbox } from '../../src/store/types.js';
import { responsesOf } from './encoded-lines.js';

/** untaggedLines() output as responses (encoded-lines.ts). */
const linesOf = (text: string | Buffer[]): string[] => responsesOf(text, 'latin1');

/** Argument tokens of `text`, through the real tokenizer. */
export function tokens(text: string): Token[] {
  return parseCommand({ text: [`t CMD ${text}`], literals: [], size: 0 }, DEFAULT_IMAP_LIMITS).args;
}

export interface FetchHarness {
  mail: UserMailbox;
  view: SelectedMailboxView;
  ctx: CommandContext;
  enabled: Set<string>;
  /** Encoded responses (without the final CRLF), in order. */
  lines: string[];
  drains: number;
  exec<A>(spec: CommandSpec<A>, args: string): Promise<string>;
}

async function encode(r: Response): Promise<string> {
  const parts: Buffer[] = [];
  for (const c of encodeResponse(r)) {
    if (Buffer.isBuffer(c)) parts.push(c);
    else for await (const b of c.stream()) parts.push(b);
  }
  return Buffer.concat(parts).toString('latin1').replace(/\r\n$/, '');
}

export async function fetchHarness(messages: Array<string | Buffer>, options: { readOnly?: boolean; flags?: string[][] } = {}): Promise<FetchHarness> {
  const store = new MemoryStore();
  const mail = await store.open('alice', { origin: 'test' });
  const inbox = await mail.get('INBOX');
  for (const [i, m] of messages.entries()) {
    await mail.append(inbox.id, {
      content: Buffer.isBuffer(m) ? m : Buffer.from(m),
      flags: options.flags?.[i] ?? [],
      internalDate: new Date(Date.UTC(2024, 0, 2 + i, 3, 4, 5)),
    });
  }
  const enabled = new Set<string>();
  const pending: Array<Promise<string>> = [];
  const lines: string[] = [];
  const push = (r: Response): void => {
    pending.push(encode(r));
  };
  const view = new SelectedMailboxView(await mail.snapshot(inbox.id), options.readOnly ?? false, 1, { untagged: (...values) => push({ type: 'data', values }) }, 'test', {
    reportModseq: () => enabled.has('CONDSTORE'),
  });
  const unsupported = (): never => {
    throw new Error('not available in this test context');
  };
  const server = { limits: DEFAULT_IMAP_LIMITS, logger: pino({ level: 'silent' }) } as unknown as ServerContext;
  const h: FetchHarness = {
    mail,
    view,
    enabled,
    lines,
    drains: 0,
    ctx: {
      tag: 't',
      command: 'FETCH',
      connection: { id: 'test', remoteAddress: '127.0.0.1', remotePort: 1, secure: false, canStartTls: false },
      server,
      state: { kind: 'selected', user: 'alice', mail, view },
      logger: server.logger,
      enabled,
      untagged: (...values: ImapValue[]) => push({ type: 'data', values }),
      untaggedLines: (text: string | Buffer[]) => {
        for (const line of linesOf(text)) pending.push(Promise.resolve(line));
      },
      untaggedStatus: (status: 'OK' | 'NO' | 'BAD' | 'BYE', text: string, code?: ResponseCode) => push({ type: 'status', tag: '*', status, text, code }),
      progress: () => undefined,
      drain: async () => {
        h.drains++;
      },
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
    } as CommandContext,
    async exec(spec, args) {
      try {
        const parsed = spec.parse(tokens(args), { enabled, limits: DEFAULT_IMAP_LIMITS });
        const done = (await spec.run(h.ctx, parsed)) ?? {};
        push({ type: 'status', tag: 't', status: 'OK', text: done.text ?? 'done', code: done.code });
      } catch (err) {
        const reply = toErrorReply(err);
        push({ type: 'status', tag: 't', status: reply.status, text: reply.text, code: reply.code });
      }
      lines.push(...(await Promise.all(pending.splice(0))));
      return lines[lines.length - 1]!;
    },
  };
  return h;
}
