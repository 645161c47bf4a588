/**
 * The delivery pipeline shared by the LMTP server, `postroom deliver` and tests:
 *
 *   resolve(address)   at RCPT time: address → user (+ detail), the user must exist and the store
 *                      must answer — so an MTA hears "no such user" before it sends the message;
 *   deliver(message)   after the message is in: per recipient, choose the mailbox (the detail
 *                      mailbox when it exists, else INBOX), ask the filter (Sieve's place; by
 *                      default keep), store, and report each recipient's outcome.
 *
 * An outcome is `ok` only once every append it made has resolved, and the store resolves an
 * append only when it is durable — so an LMTP 250 means what an IMAP APPEND's OK means.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../util/logger.js';
import type { Authenticator } from '../auth/types.js';
import { isStoreError } from '../store/errors.js';
import { isFull } from '../store/quota.js';
import type { AppendInput, Flag, MailboxInfo, MailStore, MessageContent, UserMailbox } from '../store/types.js';
import { DeliveryError, deliveryFailure, failureText, isUnexpected } from './errors.js';
import { addressProblem, candidateUsers, type RecipientUserName } from './recipient.js';
import { MessageWithdrawn } from './channel.js';
import type { MessageSpool } from './spool.js';
import type { DeliveryAction, DeliveryFailure, DeliveryFilter, DeliveryOutcome, Recipient, StoredCopy } from './types.js';
import { drain, hashed, readFront, resumed, storedBytes } from './streamed.js';
import { MailboxLookups, type MailboxChangeSource } from './mailbox-lookups.js';

export type DeliveredToHeader = 'single' | 'always' | 'never';

/** How recipients are mapped and what is added to each copy (docs/delivery.md). */
export interface DeliveryOptions {
  /** Separates user and detail in the local part ("+" in ann+lists@…); "" turns details off. Default "+". */
  recipientDelimiter?: string;
  /** Which part of the address names the user. Default "auto" (the address, else the local part). */
  recipientUserName?: RecipientUserName;
  /**
   * When to add `Delivered-To:`. "single" (default): only when the transaction has one recipient,
   * so that the copies of a message for several recipients are the same bytes and the store
   * keeps them once (Dovecot's LMTP does the same); "always"; "never".
   */
  deliveredTo?: DeliveredToHeader;
  /** Deliver `user+detail@…` into mailbox `detail` when the user has one. Default true. */
  detailMailbox?: boolean;
  /** The step between "recipient known" and "stored" (Sieve). Default: keep. */
  filter?: DeliveryFilter;
  /**
   * The store's change feed. With it, each user's mailboxes are kept by name between deliveries
   * (INBOX, the detail mailbox, a Sieve fileinto's target: mailbox-lookups.ts) until the feed
   * reports a change of the user's mailboxes, instead of being read from the store for every
   * message. Give it only a store whose feed reports every change of the mailbox tree, from other
   * processes too (the built-in stores do; `postroom serve` gives its store).
   */
  mailboxChanges?: MailboxChangeSource;
  /** Users whose mailboxes are kept that way (least recently delivered to forgotten first). Default 10000. */
  mailboxUsers?: number;
}

export interface DeliveryPipelineOptions extends DeliveryOptions {
  store: MailStore;
  /** Asked whether recipients exist (`lookupUser`); without that hook every name is accepted. */
  auth: Authenticator;
  logger?: Logger;
}

/** Explicit choices that skip the address rule (`postroom deliver --user … --mailbox …`). */
export interface RecipientRequest {
  user?: string;
  mailbox?: string;
}

const KEEP: readonly DeliveryAction[] = [{ kind: 'keep' }];

/** One recipient's delivery that stores the message while it arrives (DeliveryPipeline.startLive). */
export interface LiveDelivery {
  /**
   * Stores the trace headers, then `body` (the message as it arrives, CRLF line ends), and says
   * how it went. When `body` throws (MessageWithdrawn: the client went, or the message is
   * refused), nothing is stored. `size` is the message's size, for the log, once it is in.
   */
  store(body: AsyncIterable<Buffer>, size: () => number): Promise<DeliveryOutcome>;
  /** Closes the recipient's mailbox handle when store() is not going to be called. */
  cancel(): Promise<void>;
}

/** What a streamed delivery for one recipient is about, settled before the message arrives. */
/** A place a scripted streamed delivery stores the message in, with the flags it gets there. */
interface LiveCopy {
  box: MailboxInfo;
  flags: readonly Flag[] | undefined;
}

/** `input` with a copy of `flags` when there are any (the store may keep the array). */
function withFlags(input: AppendInput, flags: readonly Flag[] | undefined): AppendInput {
  if (flags) input.flags = [...flags];
  return input;
}

interface LiveTarget {
  from: string;
  recipient: Recipient;
  mail: UserMailbox;
  /** The mailbox chosen without a filter (keep's). */
  box: MailboxInfo;
  /** The trace headers. */
  prefix: Buffer;
}

/** One recipient's copy of the message, fresh for each append (a stream can be read once). */
interface Copy {
  (): { content: MessageContent; sha256?: Buffer };
  /** The trace headers in front of the message in this copy. */
  readonly prefix: string;
}

async function digestOf(content: MessageContent): Promise<Buffer> {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(content)) return hash.update(content).digest();
  for await (const chunk of content) hash.update(chunk);
  return hash.digest();
}
/** Large messages: recipients after the first are stored this many at a time. */
const FILE_CONCURRENCY = 4;

export class DeliveryPipeline {
  private readonly delimiter: string;
  private readonly userName: RecipientUserName;
  private readonly deliveredTo: DeliveredToHeader;
  private readonly detailMailbox: boolean;
  private readonly lookups: MailboxLookups | null;

  constructor(private readonly options: DeliveryPipelineOptions) {
    this.delimiter = options.recipientDelimiter ?? '+';
    this.userName = options.recipientUserName ?? 'auto';
    this.deliveredTo = options.deliveredTo ?? 'single';
    this.detailMailbox = options.detailMailbox ?? true;
    this.lookups = options.mailboxChanges ? new MailboxLookups(options.mailboxChanges, options.mailboxUsers ?? 10_000) : null;
  }

  /** Stops watching the store's feed for the mailboxes kept (the server closes). */
  close(): void {
    this.lookups?.clear();
  }

  /** RCPT time. Throws DeliveryError (nouser, badaddress) or whatever the lookup or store threw. */
  async resolve(address: string, request: RecipientRequest = {}): Promise<Recipient> {
    const problem = addressProblem(address);
    if (problem) throw new DeliveryError('badaddress', problem);
    const recipient = await this.findUser(address, request);
    // The store must answer now, not after the MTA has sent the whole message (451 4.3.0 at RCPT).
    const mail = await this.options.store.open(recipient.user);
    try {
      // RFC 9208 quota: a user already at a limit is told at RCPT (452 4.2.2), before the MTA
      // sends the message; one that merely would not fit is refused after DATA, by the store.
      const quota = mail.quota ? await mail.quota() : undefined;
      if (quota && isFull(quota)) throw new DeliveryError('overquota', failureText('overquota'));
    } finally {
      await mail.close();
    }
    return recipient;
  }

  private async findUser(address: string, request: RecipientRequest): Promise<Recipient> {
    const { auth } = this.options;
    const mailbox = request.mailbox !== undefined && request.mailbox !== '' ? { mailbox: request.mailbox } : {};
    const candidates = request.user !== undefined ? [{ user: request.user }] : candidateUsers(address, this.userName, this.delimiter);
    if (!auth.lookupUser) {
      // Documented fallback: a framework authenticator that cannot tell accepts every usable name.
      const first = candidates[0];
      if (first) return { address, ...first, ...mailbox };
    } else {
      for (const candidate of candidates) {
        const found = await auth.lookupUser(candidate.user);
        if (found) return { address, ...candidate, user: found.user, ...mailbox };
      }
    }
    throw new DeliveryError('nouser', `No such user: ${address}`);
  }

  /**
   * Before the message arrives: when one recipient's delivery can be decided without the whole
   * message — its mailbox is known, and the filter either will not act for them (no Sieve script)
   * or needs only the header section (a script without body, size, redirect or editheader:
   * DeliveryFilter.needsMessage) — a LiveDelivery that stores the message while it arrives, so
   * that its bytes are written once (by the store) rather than spooled first and copied.
   * Otherwise null: spool, then deliver(). Never throws: whatever fails here is met again, and
   * answered, on the ordinary path.
   */
  async startLive(from: string, recipients: readonly Recipient[]): Promise<LiveDelivery | null> {
    if (recipients.length !== 1) return null;
    const recipient = recipients[0]!;
    const { store, filter, logger } = this.options;
    let mail: UserMailbox | undefined;
    let box: MailboxInfo;
    let filtered: DeliveryFilter | null = null;
    try {
      mail = await store.open(recipient.user);
      if (filter && (!filter.appliesTo || (await filter.appliesTo(recipient, mail)))) {
        if (!filter.needsMessage || (await filter.needsMessage(recipient, mail))) {
          await mail.close();
          return null;
        }
        filtered = filter;
      }
      box = await this.chooseMailbox(mail, recipient);
    } catch {
      await mail?.close().catch(() => undefined);
      return null;
    }
    const opened = mail;
    const prefix = Buffer.from(this.tracePrefix(from, recipients.length, recipient));
    const plain = async (body: AsyncIterable<Buffer>, size: () => number): Promise<DeliveryOutcome> => {
      const result = await opened.append(box.id, { content: prefixed(prefix, body) });
      logger?.info({ to: recipient.address, user: recipient.user, mailbox: box.name, uid: result.uid, size: size() }, 'delivered');
      return { ok: true, recipient, stored: [{ mailbox: box.name, uid: result.uid }] };
    };
    return {
      store: async (body, size) => {
        try {
          if (!filtered) return await plain(body, size);
          return await this.storeFiltered(filtered, { from, recipient, mail: opened, box, prefix }, body, size);
        } catch (err) {
          // The caller withdrew the message (the client went, or it was refused): it answers.
          if (err instanceof MessageWithdrawn) return { ok: false, recipient, failure: { kind: 'tempfail', message: err.message } };
          return this.failed(recipient, err);
        } finally {
          await opened.close().catch(() => undefined);
        }
      },
      cancel: () => opened.close().catch(() => undefined),
    };
  }

  /**
   * A scripted delivery while the message arrives: the header section is read off the front of
   * `body`, the filter decides from it, and the rest streams into the first place it chose. More
   * places (keep and fileinto, :copy) get the same bytes by digest — a content-addressed store
   * adds a reference, another reads the first copy back — as the copies of a message for many
   * recipients do. A reject stores nothing (the rest of the message is dropped as it comes); a
   * runtime error is the filter's implicit keep. Side effects the filter deferred (a vacation
   * answer) run once everything is stored, and not when the message is withdrawn.
   */
  private async storeFiltered(filter: DeliveryFilter, d: LiveTarget, body: AsyncIterable<Buffer>, size: () => number): Promise<DeliveryOutcome> {
    // One async frame for the whole step (it runs for every scripted delivery), and no arrays
    // made by spreads or destructuring on the way: the first place is kept apart from the others.
    const reader = body[Symbol.asyncIterator]();
    try {
      const { recipient, mail } = d;
      const logger = this.options.logger;
      const front = await readFront(reader);
      let deferred: Array<() => Promise<void>> | undefined;
      const decided = await filter({
        from: d.from,
        recipient,
        mailbox: d.box.name,
        header: front.header.bytes(),
        mail,
        headerComplete: front.header.complete(front.size),
        defer: (effect) => void (deferred ??= []).push(effect),
      });
      const actions = decided.length === 0 ? KEEP : decided;
      for (const action of actions) {
        if (action.kind === 'reject') throw new DeliveryError(action.temporary ? 'deferred' : 'rejected', action.reason);
      }
      let first: LiveCopy | undefined;
      let others: LiveCopy[] | undefined;
      for (const action of actions) {
        if (action.kind !== 'keep' && action.kind !== 'fileinto') continue;
        // Only when the script changed since needsMessage answered (editheader needs the spool).
        if (action.header) logger?.warn({ to: recipient.address }, 'the filter edited the header of a message stored as it arrived; stored as received');
        const target: LiveCopy = { box: action.kind === 'keep' ? d.box : await this.fileintoTarget(mail, action), flags: action.flags };
        if (!first) first = target;
        else (others ??= []).push(target);
      }
      const stored: StoredCopy[] = [];
      if (!first) {
        await drain(reader, front.ended); // discarded: the message must still arrive whole to be accepted
      } else {
        const hash = others ? createHash('sha256') : null;
        // The trace headers go in front of the chunks already read: one generator between the
        // channel and the store, not two (each is a promise and a turn per chunk).
        front.chunks.unshift(d.prefix);
        const content = resumed(front.chunks, reader, front.ended);
        const { uid } = await mail.append(first.box.id, withFlags({ content: hash ? hashed(content, hash) : content }, first.flags));
        stored.push({ mailbox: first.box.name, uid });
        if (others) {
          const sha256 = hash!.digest();
          for (const other of others) {
            const copy = await mail.append(other.box.id, withFlags({ content: storedBytes(mail, first.box.id, uid), sha256 }, other.flags));
            stored.push({ mailbox: other.box.name, uid: copy.uid });
          }
        }
      }
      for (const copy of stored) logger?.info({ to: recipient.address, user: recipient.user, mailbox: copy.mailbox, uid: copy.uid, size: size() }, 'delivered');
      if (stored.length === 0) logger?.info({ to: recipient.address, user: recipient.user }, 'discarded by the filter');
      if (deferred) {
        for (const effect of deferred) {
          // Stored already: a failing side effect must not turn the delivery into a retry (a duplicate).
          await effect().catch((err: unknown) => logger?.error({ err, to: recipient.address }, 'a deferred filter action failed'));
        }
      }
      return { ok: true, recipient, stored };
    } finally {
      await reader.return?.(); // stopped early (a reject, a failure): the sender's later chunks are dropped
    }
  }

  /** The trace headers in front of a recipient's copy (docs/delivery.md). */
  private tracePrefix(from: string, recipientCount: number, recipient: Recipient): string {
    const returnPath = `Return-Path: <${from}>\r\n`;
    const withDeliveredTo = this.deliveredTo === 'always' || (this.deliveredTo === 'single' && recipientCount === 1);
    return withDeliveredTo ? `${returnPath}Delivered-To: ${recipient.address}\r\n` : returnPath;
  }

  private failed(recipient: Recipient, err: unknown): DeliveryOutcome {
    // A mailbox kept by name may be gone (changed on another node a moment ago): looked up afresh next time.
    if (isStoreError(err) && (err.kind === 'nonexistent' || err.kind === 'cannot')) this.lookups?.forget(recipient.user);
    const failure = deliveryFailure(err);
    if (isUnexpected(err)) this.options.logger?.error({ err, to: recipient.address, user: recipient.user }, 'delivery failed');
    else this.options.logger?.info({ to: recipient.address, user: recipient.user, failure: failure.kind, reason: (err as Error).message }, 'delivery refused');
    return { ok: false, recipient, failure };
  }

  /** After DATA: one outcome per recipient, in order. Never throws. */
  async deliver(from: string, recipients: readonly Recipient[], message: MessageSpool): Promise<DeliveryOutcome[]> {
    const refusal = whyRefused(message);
    if (refusal) return recipients.map((recipient) => ({ ok: false, recipient, failure: refusal }));
    const returnPath = `Return-Path: <${from}>\r\n`;
    const withDeliveredTo = this.deliveredTo === 'always' || (this.deliveredTo === 'single' && recipients.length === 1);
    const contents = new Map<string, Buffer>();
    const bytesFor = (prefix: string): MessageContent => {
      if (!message.inMemory) return message.content(Buffer.from(prefix));
      // The same Buffer for every recipient with the same trace headers: built once.
      let bytes = contents.get(prefix);
      if (!bytes) contents.set(prefix, (bytes = message.content(Buffer.from(prefix)) as Buffer));
      return bytes;
    };
    // Several recipients, one set of trace headers: every copy is the same bytes. Their digest
    // lets a content-addressed store add the later copies without reading them again.
    const sha256 = !withDeliveredTo && recipients.length > 1 ? await digestOf(bytesFor(returnPath)) : undefined;
    const copy = (recipient: Recipient): Copy => {
      const prefix = this.tracePrefix(from, recipients.length, recipient);
      return Object.assign(() => ({ content: bytesFor(prefix), ...(sha256 ? { sha256 } : {}) }), { prefix });
    };
    const one = (recipient: Recipient): Promise<DeliveryOutcome> => this.deliverOne(from, recipient, message, copy(recipient));
    if (message.inMemory || recipients.length === 1) return Promise.all(recipients.map(one));
    // A large body: the first copy stores the bytes (and its MIME structure is parsed once); the
    // others find them stored — all at once when the store can tell by digest, otherwise a few at
    // a time so that temporary files stay few.
    const outcomes: DeliveryOutcome[] = [await one(recipients[0]!)];
    const batch = sha256 ? recipients.length : FILE_CONCURRENCY;
    for (let i = 1; i < recipients.length; i += batch) {
      outcomes.push(...(await Promise.all(recipients.slice(i, i + batch).map(one))));
    }
    return outcomes;
  }

  private async deliverOne(
    from: string,
    recipient: Recipient,
    message: MessageSpool,
    copy: Copy,
  ): Promise<DeliveryOutcome> {
    const { store, logger, filter } = this.options;
    let mail: UserMailbox | undefined;
    try {
      mail = await store.open(recipient.user);
      const chosen = await this.chooseMailbox(mail, recipient);
      const decided = filter
        ? await filter({
            from,
            recipient,
            mailbox: chosen.name,
            header: message.headerBytes(),
            size: message.size,
            mail,
            body: (maxBytes) => message.bodyBytes(maxBytes),
            message: () => message.bytes(),
            headerComplete: message.headerComplete,
          })
        : KEEP;
      const actions = decided.length === 0 ? KEEP : decided;
      const refusal = actions.find((a) => a.kind === 'reject');
      if (refusal?.kind === 'reject') throw new DeliveryError(refusal.temporary ? 'deferred' : 'rejected', refusal.reason);
      const stored: StoredCopy[] = [];
      for (const action of actions) {
        if (action.kind !== 'keep' && action.kind !== 'fileinto') continue;
        const target = action.kind === 'keep' ? chosen : await this.fileintoTarget(mail, action);
        stored.push(await this.append(mail, target, action.flags, this.edited(copy, action.header, message, recipient)));
      }
      for (const copy of stored) {
        logger?.info({ to: recipient.address, user: recipient.user, mailbox: copy.mailbox, uid: copy.uid, size: message.size }, 'delivered');
      }
      if (stored.length === 0) logger?.info({ to: recipient.address, user: recipient.user }, 'discarded by the filter');
      return { ok: true, recipient, stored };
    } catch (err) {
      return this.failed(recipient, err);
    } finally {
      await mail?.close().catch(() => undefined);
    }
  }

  /**
   * The copy with the header section a filter rewrote (Sieve editheader), or the plain copy. The
   * trace headers (Return-Path, Delivered-To) stay in front: they record this delivery, not the
   * message, and a script cannot remove them.
   */
  private edited(copy: Copy, header: Buffer | undefined, message: MessageSpool, recipient: Recipient): Copy {
    if (!header) return copy;
    if (!message.headerComplete) {
      this.options.logger?.warn({ to: recipient.address }, 'the header section is too long for the filter to edit; stored as received');
      return copy;
    }
    // Not the shared bytes nor their digest: this copy differs from the other recipients'.
    return Object.assign(() => ({ content: message.contentWithHeader(Buffer.from(copy.prefix), header) }), { prefix: copy.prefix });
  }

  private async append(
    mail: UserMailbox,
    box: MailboxInfo,
    flags: readonly Flag[] | undefined,
    copy: Copy,
  ): Promise<StoredCopy> {
    const result = await mail.append(box.id, { ...copy(), ...(flags ? { flags: [...flags] } : {}) });
    return { mailbox: box.name, uid: result.uid };
  }

  /** The detail (or explicitly asked-for) mailbox when it exists and holds messages; else INBOX. */
  private async chooseMailbox(mail: UserMailbox, recipient: Recipient): Promise<MailboxInfo> {
    const wanted = recipient.mailbox ?? (this.detailMailbox ? recipient.detail : undefined);
    if (wanted !== undefined) {
      const exact = await this.existing(mail, wanted);
      if (exact && !exact.noselect) return exact;
      if (recipient.mailbox === undefined) {
        // Addresses are often lower-cased on the way; "+lists" still finds "Lists" if it is the only match.
        const folded = wanted.toLowerCase();
        const matches = (await mail.list()).filter((b) => !b.noselect && b.name.toLowerCase() === folded);
        if (matches.length === 1) return matches[0]!;
      }
    }
    return this.mailbox(mail, 'INBOX');
  }

  /** The user's mailbox `name`: kept by name when the pipeline watches the feed (mailbox-lookups.ts). */
  private mailbox(mail: UserMailbox, name: string): MailboxInfo | Promise<MailboxInfo> {
    return this.lookups ? this.lookups.get(mail, name) : mail.get(name);
  }

  private async existing(mail: UserMailbox, name: string): Promise<MailboxInfo | null> {
    try {
      return await this.mailbox(mail, name);
    } catch (err) {
      if (isStoreError(err) && (err.kind === 'nonexistent' || err.kind === 'cannot')) return null;
      throw err;
    }
  }

  private async fileintoTarget(mail: UserMailbox, action: Extract<DeliveryAction, { kind: 'fileinto' }>): Promise<MailboxInfo> {
    const found = await this.existing(mail, action.mailbox);
    if (found && !found.noselect) return found;
    if (action.create && !found) {
      try {
        return await mail.create(action.mailbox);
      } catch (err) {
        // Another delivery for this user created it since the lookup above (two messages for one
        // new list at once): theirs is the mailbox asked for. Anything else is this delivery's failure.
        if (!isStoreError(err) || err.kind !== 'alreadyexists') throw err;
        const created = await this.existing(mail, action.mailbox);
        if (created && !created.noselect) return created;
        throw err;
      }
    }
    return this.mailbox(mail, 'INBOX'); // RFC 5228 §4.1 leaves a missing mailbox to the implementation; like Dovecot: INBOX
  }
}

/** `prefix`, then `body`. */
async function* prefixed(prefix: Buffer, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield prefix;
  yield* body;
}

/** Messages that are refused for every recipient alike, before anything is stored. */
export function whyRefused(message: MessageSpool): DeliveryFailure | null {
  if (message.oversized) return { kind: 'toobig', message: failureText('toobig') };
  if (message.error !== null) return deliveryFailure(message.error);
  // IMAP cannot carry NUL in a message (RFC 3501 §4.3, RFC 9051 §4.3); like Cyrus, refuse it.
  if (message.hasNul) return { kind: 'badcontent', message: 'Message contains NUL characters' };
  return null;
}
