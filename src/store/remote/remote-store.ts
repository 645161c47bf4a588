/**
 * A MailStore whose calls run somewhere else — a running server reached over the control socket
 * (control/store-link.ts), or any thread or process at the far end of a link — answered there by
 * serveStore().
 *
 * What crosses: every UserMailbox call and its result, by structured clone (Dates arrive intact;
 * bytes that a MessagePort delivers as plain Uint8Arrays are made Buffers again); an APPEND's body
 * and a read() travel whole, not streamed. Change events arrive on the same link as the replies, so
 * a session hears of a change no later than the reply of the call that made it, in the owner's
 * commit order.
 */
import { ChangeFeed, type ChangeFeedOptions } from '../change-feed.js';
import { StoreError } from '../errors.js';
import { STREAM_CHUNK, bufferChunks } from '../pinned-stream.js';
import type { AppendInput, ChangeListener, MailStore, MessageContent, MessageHead, MetadataEntry, OpenOptions, QuotaLimits, QuotaState, SortableMessage, UserMailbox } from '../types.js';
import type { SharedMailboxRef } from '../acl.js';
import { asBuffer, type CallRequest, type OpenRequest, type RemoteMethod, type StoreLink, type StoreRequest, type StoreResponse } from './messages.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class RemoteStore implements MailStore {
  readonly delimiter = '/';
  /** Keeps exactly the (CRLF) bytes it was given. */
  readonly lineEnds = 'crlf' as const;
  /** The owner's store sees every change, and forwards them. */
  readonly crossProcessChanges = true;
  /** The owner's store keeps annotations (a store without them answers StoreError 'cannot'). */
  readonly metadata = true;
  private nextId = 1;
  private nextHandle = 1;
  private readonly waiting = new Map<number, Pending>();
  private readonly feed: ChangeFeed;

  constructor(
    private readonly link: StoreLink<StoreResponse, StoreRequest>,
    options: ChangeFeedOptions = {},
  ) {
    this.feed = new ChangeFeed(options);
    link.onMessage((m) => {
      if (m.t === 'reply') {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (!w) return;
        if (m.ok) w.resolve(m.value);
        else w.reject(m.kind ? new StoreError(m.kind, m.message) : new Error(m.message));
      } else {
        this.feed.publish(m.user, m.change);
      }
    });
  }

  request(message: Omit<OpenRequest, 'id'> | Omit<CallRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.link.send({ ...message, id } as OpenRequest | CallRequest);
    });
  }

  async open(user: string, options?: OpenOptions): Promise<UserMailbox> {
    const handle = this.nextHandle++;
    await this.request({ t: 'open', handle, user, ...(options ? { options } : {}) });
    return remoteMailbox(this, user, handle);
  }

  watch(user: string, listener: ChangeListener): () => void {
    // The owner is asked for a user's events once, while this side has listeners for them.
    if (this.feed.listenerCount(user) === 0) this.link.send({ t: 'watch', user });
    const stop = this.feed.watch(user, listener);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      stop();
      if (this.feed.listenerCount(user) === 0) this.link.send({ t: 'unwatch', user });
    };
  }

  /** Through a handle of the user: the owner's store answers (StoreError 'cannot' when it keeps no quotas). */
  async getQuota(user: string): Promise<QuotaState> {
    const handle = await this.open(user);
    try {
      return await handle.quota!();
    } finally {
      await handle.close();
    }
  }

  async setQuota(user: string, limits: QuotaLimits | null): Promise<void> {
    const handle = this.nextHandle++;
    await this.request({ t: 'open', handle, user });
    try {
      await this.request({ t: 'call', handle, method: 'setQuota', args: [limits] });
    } finally {
      await this.request({ t: 'call', handle, method: 'close', args: [] });
    }
  }

  /** Through a handle of the user, as getQuota (StoreError 'cannot' when the owner keeps no ACLs). */
  async sharedMailboxes(user: string): Promise<SharedMailboxRef[]> {
    const handle = this.nextHandle++;
    await this.request({ t: 'open', handle, user });
    try {
      return (await this.request({ t: 'call', handle, method: 'sharedMailboxes', args: [] })) as SharedMailboxRef[];
    } finally {
      await this.request({ t: 'call', handle, method: 'close', args: [] });
    }
  }

  async close(): Promise<void> {}
}

async function collect(content: MessageContent): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const parts: Buffer[] = [];
  for await (const c of content) parts.push(c);
  return Buffer.concat(parts);
}

function remoteMailbox(store: RemoteStore, user: string, handle: number): UserMailbox {
  const call = (method: RemoteMethod, args: unknown[]): Promise<never> => store.request({ t: 'call', handle, method, args }) as Promise<never>;
  const read = async (args: unknown[]): Promise<Buffer> => asBuffer((await call('read', args)) as Uint8Array);
  // The owner says when the keys it would send are the ones this side already holds (store-server.ts):
  // they cross once, and the array keeps its identity, which SORT's caches rely on.
  const sortKeys = new Map<string, { token: number; list: readonly SortableMessage[] }>();
  const sortData = async (mailboxId: string): Promise<readonly SortableMessage[]> => {
    const known = sortKeys.get(mailboxId);
    const reply = (await call('sortData', [mailboxId, known?.token])) as { token: number; same?: boolean; list?: SortableMessage[] };
    if (reply.same && known) return known.list;
    const list = reply.list ?? [];
    sortKeys.set(mailboxId, { token: reply.token, list });
    return list;
  };
  return {
    user,
    list: () => call('list', []),
    create: (...a) => call('create', a),
    delete: (...a) => call('delete', a),
    rename: (...a) => call('rename', a),
    subscribe: (...a) => call('subscribe', a),
    subscriptions: () => call('subscriptions', []),
    get: (...a) => call('get', a),
    status: (...a) => call('status', a),
    snapshot: (...a) => call('snapshot', a),
    claimRecent: (...a) => call('claimRecent', a),
    expungedSince: (...a) => call('expungedSince', a),
    changedSince: (...a) => call('changedSince', a),
    records: (...a) => call('records', a),
    structure: (...a) => call('structure', a),
    read: (...a) => read(a),
    // Header blocks cross as Uint8Array (structured clone): viewed as Buffers again.
    messageHeads: async (...a) =>
      ((await call('messageHeads', a)) as MessageHead[]).map((h) => (h.header ? { ...h, header: asBuffer(h.header) } : h)),
    stream: (mailboxId, uid, range) => {
      const bytes = read(range ? [mailboxId, uid, range] : [mailboxId, uid]);
      // The owner pins the bytes when the request reaches it — after any call sent before it,
      // an EXPUNGE included — so FETCH learns whether it did before announcing the literal.
      const pinned = bytes.then(() => undefined);
      pinned.catch(() => undefined); // also surfaces on the first read, for callers that do not wait
      // Bytes that crossed whole still reach the output queue in pieces, as the local stores give them.
      const stream = (async function* () {
        yield* bufferChunks(await bytes, STREAM_CHUNK);
      })();
      return Object.assign(stream, { pinned });
    },
    // The progress hook cannot cross the channel: a worker's SEARCH sends INPROGRESS without counts.
    search: (mailboxId, query) => call('search', [mailboxId, query]),
    messageExtras: (...a) => call('messageExtras', a),
    sortData,
    append: async (mailboxId, input, options) =>
      call('append', [mailboxId, { ...input, content: await collect(input.content) }, ...(options ? [options] : [])]),
    appendMany: async (mailboxId, inputs, options) => {
      const whole: AppendInput[] = [];
      for await (const input of inputs) whole.push({ ...input, content: await collect(input.content) });
      return call('appendMany', [mailboxId, whole, ...(options ? [options] : [])]);
    },
    updateFlags: (...a) => call('updateFlags', a),
    copy: (...a) => call('copy', a),
    move: (...a) => call('move', a),
    expunge: (...a) => call('expunge', a),
    quota: () => call('quota', []),
    getAcl: (...a) => call('getAcl', a),
    setAcl: (...a) => call('setAcl', a),
    privateSeen: (...a) => call('privateSeen', a),
    setPrivateSeen: (...a) => call('setPrivateSeen', a),
    // Values cross the link as Uint8Array (structured clone): viewed as Buffers again.
    getMetadata: async (...a) => ((await call('getMetadata', a)) as MetadataEntry[]).map((e) => ({ entry: e.entry, value: asBuffer(e.value) })),
    setMetadata: (...a) => call('setMetadata', a),
    urlauthKey: async (...a) => {
      const key = await call('urlauthKey', a);
      return key === null ? null : Buffer.from(key as Uint8Array);
    },
    resetUrlauthKeys: (...a) => call('resetUrlauthKeys', a),
    close: () => call('close', []),
    // Sieve scripts: the owner answers StoreError 'cannot' when its store keeps none.
    sieveList: () => call('sieveList', []),
    sieveGet: (...a) => call('sieveGet', a),
    sievePut: (...a) => call('sievePut', a),
    sieveDelete: (...a) => call('sieveDelete', a),
    sieveRename: (...a) => call('sieveRename', a),
    sieveSetActive: (...a) => call('sieveSetActive', a),
    sieveActive: () => call('sieveActive', []),
    vacationRemember: (...a) => call('vacationRemember', a),
    vacationAnswered: (...a) => call('vacationAnswered', a),
    vacationPrune: (...a) => call('vacationPrune', a),
    // Atomic on the owner's side (claimVacation() there falls back for a store without it).
    vacationClaim: (...a) => call('vacationClaim', a),
    vacationRelease: (...a) => call('vacationRelease', a),
  };
}
