/**
 * One stress session's connection: sends a command, reads every response up to its tagged line,
 * parses each, feeds the untagged ones to the selected mailbox's model (view.ts) and checks the
 * rules that belong to the session rather than the mailbox: nothing but BYE after LOGOUT, no BYE
 * otherwise, SEARCH naming only messages the session knows.
 */
import { WireClient, WireError, type Response } from '../load/wire-client.js';
import { ParseFailure, num, parseResponse, type Parsed, type Value } from './response.js';
import type { MailboxView } from './view.js';
import type { World } from './world.js';

export interface Reply {
  status: string;
  code: string | null;
  codeArgs: Value[];
  tagged: string;
  untagged: Parsed[];
  /** SEARCH results (numbers) of this command. */
  search: number[] | null;
}

export interface CommandOptions {
  /** FETCH, STORE, SEARCH by sequence number: EXPUNGE may not be sent meanwhile (RFC 3501 §7.4.1). */
  noExpunge?: boolean;
  /** The message of an APPEND, sent after the continuation. */
  literal?: Buffer;
  /** IDLE: send DONE after this many milliseconds. */
  idleMs?: number;
  /** SEARCH answers in UIDs (UID SEARCH) rather than sequence numbers. */
  uidSearch?: boolean;
}

const COMMAND_TIMEOUT_MS = 120_000;

export class StressSession {
  private wire: WireClient | null = null;
  private readonly transcript: string[] = [];
  view: MailboxView | null = null;
  loggingOut = false;

  constructor(
    readonly id: string,
    private readonly world: World,
  ) {
    world.register(id, this.transcript);
  }

  fail = (kind: string, detail: string): void => {
    this.world.error(kind, this.id, detail);
  };

  private note(dir: 'C' | 'S', text: string): void {
    this.transcript.push(`${dir}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
    if (this.transcript.length > 60) this.transcript.shift();
  }

  get connected(): boolean {
    return this.wire !== null;
  }

  /** `tls`: implicit TLS (any certificate accepted), as a client of the server's IMAPS port. */
  async connect(host: string, port: number, tls = false): Promise<void> {
    const { client, greeting } = await WireClient.connect(host, port, undefined, { tls });
    this.wire = client;
    this.loggingOut = false;
    this.view = null;
    this.note('S', greeting.text);
    if (!greeting.text.startsWith('* OK')) this.fail('bad greeting', greeting.text);
  }

  drop(): void {
    this.wire?.close();
    this.wire = null;
    this.view = null;
  }

  /** Runs one command; null when the connection failed (already reported). */
  async command(text: string, opts: CommandOptions = {}): Promise<Reply | null> {
    const wire = this.wire;
    if (!wire) return null;
    const tag = wire.nextTag();
    const name = text.split(' ', text.startsWith('UID ') ? 2 : 1).join(' ').toUpperCase();
    this.world.countCommand(name);
    if (this.view) {
      this.view.noExpunge = opts.noExpunge === true;
      this.view.fetches = [];
      this.view.expunged = [];
    }
    const line = opts.literal ? `${tag} ${text} {${opts.literal.length}}` : `${tag} ${text}`;
    this.note('C', line);
    wire.write(`${line}\r\n`);
    const untagged: Parsed[] = [];
    let search: number[] | null = null;
    let idleTimer: NodeJS.Timeout | null = null;
    try {
      for (;;) {
        const r: Response = await wire.next(COMMAND_TIMEOUT_MS);
        this.note('S', r.text);
        let p: Parsed;
        try {
          p = parseResponse(r);
        } catch (err) {
          if (!(err instanceof ParseFailure)) throw err;
          this.fail('unparsable response', `${err.message}: ${r.text.slice(0, 200)}`);
          continue;
        }
        if (p.kind === 'continuation') {
          if (opts.literal) {
            wire.write(Buffer.concat([opts.literal, Buffer.from('\r\n')]));
          } else if (opts.idleMs !== undefined) {
            idleTimer = setTimeout(() => {
              this.note('C', 'DONE');
              wire.write('DONE\r\n');
            }, opts.idleMs);
          } else this.fail('unexpected continuation', r.text);
          continue;
        }
        if (p.kind === 'tagged') {
          if (p.tag !== tag) {
            this.fail('tagged reply for another command', r.text);
            continue;
          }
          if (this.view) this.view.noExpunge = false;
          return { status: p.status, code: p.code, codeArgs: p.codeArgs, tagged: r.text, untagged, search };
        }
        untagged.push(p);
        if (this.loggingOut) {
          if (!(p.kind === 'status' && p.status === 'BYE')) this.fail('update after LOGOUT', r.text);
          continue;
        }
        if (p.kind === 'status' && p.status === 'BYE') {
          this.fail('unexpected BYE', r.text);
          continue;
        }
        if (p.kind === 'data' && p.name === 'SEARCH') {
          search = p.args.map((a) => num(a) ?? -1);
          this.checkSearch(search, opts, r.text);
          continue;
        }
        this.view?.apply(p, r.text);
      }
    } catch (err) {
      if (!(err instanceof WireError) && !(err as NodeJS.ErrnoException).code) throw err;
      if (!this.loggingOut) this.fail('connection failed during a command', `${(err as Error).message}: ${line}`);
      this.drop();
      return null;
    } finally {
      if (idleTimer) clearTimeout(idleTimer);
    }
  }

  /** A SEARCH answer names only messages in the session's view (RFC 3501 §7.2.5). */
  private checkSearch(result: number[], opts: CommandOptions, line: string): void {
    const view = this.view;
    if (!view) return;
    if (!opts.uidSearch) {
      for (const n of result) if (n < 1 || n > view.exists) this.fail('SEARCH names a sequence number that does not exist', `${line} with ${view.exists}`);
      return;
    }
    if (view.entries.some((e) => e.uid === undefined)) return;
    const known = new Set(view.uids());
    for (const uid of result) if (!known.has(uid)) this.fail('UID SEARCH names a message the session was not told of', `UID ${uid}: ${line}`);
  }
}
