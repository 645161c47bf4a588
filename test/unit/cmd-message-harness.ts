/**
 * A fake CommandContext for the message-command unit tests: a real MemoryStore and a real
 * SelectedMailboxView, with every response rendered by the real encoder into `lines`.
 */
import pino from 'pino';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SelectedMailboxView } from '../../src/imap/session/selected-view.js';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { encodeResponse } from '../../src/imap/wire/encoder.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { toErrorReply } from '../../src/imap/errors.js';
import type { ImapValue, Response } from '../../src/imap/wire/types.js';
import type { AnyCommandSpec, CommandContext, Completion, SessionState } from '../../src/imap/commands/types.js';
import type { AppendInput, UserMailbox } from '../../src/store/types.js';
import { responsesOf } from './encoded-lines.js';

/** untaggedLines() output as responses (encoded-lines.ts). */
const linesOf = (text: string | Buffer[]): string[] => responsesOf(text, 'utf8');

const logger = pino({ level: 'silent' });

function render(r: Response): string {
  return Buffer.concat(encodeResponse(r).map((c) => (Buffer.isBuffer(c) ? c : Buffer.from('{stream}')))).toString('utf8').replace(/\r\n$/, '');
}

export interface Harness {
  store: MemoryStore;
  mail: UserMailbox;
  /** A second session's handle on the same user (its changes reach our view through the feed). */
  other: UserMailbox;
  state: SessionState;
  enabled: Set<string>;
  /** Every untagged line since the last `take()`. */
  lines: string[];
  take(): string[];
  view(): SelectedMailboxView;
  select(name?: string, readOnly?: boolean): Promise<SelectedMailboxView>;
  append(mailbox: string, text: string, input?: Omit<AppendInput, 'content'>): Promise<number>;
  /** Parses and runs `spec` with `args` (literals as extra strings); returns the tagged line. */
  run(spec: AnyCommandSpec, args: string, literals?: Array<string | Buffer>): Promise<string>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const store = new MemoryStore();
  const mail = await store.open('alice', { origin: 'me' });
  const other = await store.open('alice', { origin: 'other' });
  const enabled = new Set<string>();
  let currentView: SelectedMailboxView | undefined;
  let unwatch: (() => void) | undefined;
  const h: Harness = {
    store,
    mail,
    other,
    state: { kind: 'authenticated', user: 'alice', mail },
    enabled,
    lines: [],
    take() {
      const out = h.lines;
      h.lines = [];
      return out;
    },
    view() {
      if (!currentView) throw new Error('nothing selected');
      return currentView;
    },
    async select(name = 'INBOX', readOnly = false) {
      unwatch?.();
      const info = await mail.get(name);
      const snapshot = await mail.snapshot(info.id);
      const recentFrom = await mail.claimRecent(info.id, { peek: readOnly, through: snapshot.uidNext - 1 });
      const view = new SelectedMailboxView(snapshot, readOnly, recentFrom, { untagged: (...v) => untagged(v) }, 'me', {
        reportModseq: () => enabled.has('CONDSTORE'),
      });
      unwatch = store.watch('alice', (c) => view.onChange(c));
      currentView = view;
      h.state = { kind: 'selected', user: 'alice', mail, view };
      return view;
    },
    async append(mailbox, text, input = {}) {
      const info = await mail.get(mailbox);
      const r = await mail.append(info.id, { ...input, content: Buffer.from(text.replace(/\r?\n/g, '\r\n')) });
      return r.uid;
    },
    async run(spec, args, literals = []) {
      const bufs = literals.map((l) => (Buffer.isBuffer(l) ? l : Buffer.from(l)));
      // The framer hands over command text as latin1, one char per byte.
      const text = [Buffer.from(`t ${spec.name} ${args}`, 'utf8').toString('latin1'), ...bufs.map(() => '')];
      const env = { enabled, limits: DEFAULT_IMAP_LIMITS };
      const ctx = context(spec.name);
      try {
        const parsed = parseCommand({ text, literals: bufs.map((b) => [b]), size: 0 }, DEFAULT_IMAP_LIMITS);
        // The dispatcher takes the word after UID as part of the command name.
        const tokens = spec.name.startsWith('UID ') ? parsed.args.slice(1) : parsed.args;
        const completion = (await spec.run(ctx, spec.parse(tokens, env))) as Completion | void;
        return render({ type: 'status', tag: 't', status: 'OK', code: completion?.code, text: completion?.text ?? `${spec.name} completed` });
      } catch (err) {
        const reply = toErrorReply(err);
        if (reply.unexpected) throw err;
        return render({ type: 'status', tag: 't', status: reply.status, code: reply.code, text: reply.text });
      }
    },
    async close() {
      unwatch?.();
      await store.close();
    },
  };

  function untagged(values: ImapValue[]): void {
    h.lines.push(render({ type: 'data', values }));
  }

  function context(command: string): CommandContext {
    const unsupported = (): never => {
      throw new Error('not available in unit tests');
    };
    const ctx: CommandContext = {
      tag: 't',
      command,
      connection: { id: 'me', remoteAddress: '127.0.0.1', remotePort: 1, secure: false, canStartTls: false },
      server: {
        store,
        auth: { authenticate: async () => null },
        limits: DEFAULT_IMAP_LIMITS,
        allowInsecureAuth: true,
        id: {},
        logger,
        capabilities: () => [],
      },
      get state() {
        return h.state;
      },
      logger,
      enabled,
      untagged: (...values) => untagged(values),
      untaggedLines: (text) => h.lines.push(...linesOf(text)),
      untaggedStatus: (status, text, code) => h.lines.push(render({ type: 'status', tag: '*', status, text, code })),
      drain: async () => undefined,
      progress: () => undefined,
      continuation: unsupported,
      idle: unsupported,
      setState(next) {
        if (next.kind !== 'selected') {
          unwatch?.();
          currentView = undefined;
        }
        h.state = next;
      },
      startTls: unsupported,
      startCompression: unsupported,
      setNotify: unsupported,
      login: unsupported,
      select: unsupported,
      close: () => undefined,
      unauthenticate: () => undefined,
      saslContext: unsupported,
    };
    return ctx;
  }

  return h;
}

/** A small RFC 5322 message. */
export function message(subject: string, extra = '', body = 'body'): string {
  return `From: Sender <sender@example.com>\nTo: alice@example.com\nSubject: ${subject}\n${extra}\n${body}\n`;
}
