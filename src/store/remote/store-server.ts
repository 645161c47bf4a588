/**
 * The owner's side of a remote store: answers one peer's calls on the real store and forwards the
 * change events of the users that peer watches.
 */
import { StoreError } from '../errors.js';
import { messagesChangedSince } from '../changed-since.js';
import { messageHeads } from '../message-heads.js';
import type { AppendInput, MailStore, MessageHeadOptions, MetadataOptions, MetadataWrite, QuotaLimits, SetMetadataOptions, UserMailbox } from '../types.js';
import { REMOTE_METHODS, asBuffer, type StoreLink, type StoreRequest, type StoreResponse } from './messages.js';
import { ALL_SORT_KEYS, plainSortable, sortData } from '../sort/sort-data.js';
import { claimVacation, releaseVacation, SIEVE_STORAGE_METHODS, sieveStorage, type SieveScriptStorage } from '../sieve-storage.js';

const SIEVE_METHODS: ReadonlySet<string> = new Set(SIEVE_STORAGE_METHODS);
function isSieveMethod(method: string): method is keyof SieveScriptStorage {
  return SIEVE_METHODS.has(method);
}

export interface ServedPeer {
  /** Drops the peer's watches and closes its handles (the peer is gone). */
  release(): void;
}

export function serveStore(store: MailStore, link: StoreLink<StoreRequest, StoreResponse>): ServedPeer {
  const handles = new Map<number, UserMailbox>();
  const watches = new Map<string, () => void>();
  // sortData answers carry a token per key array: a peer that already holds the array the store
  // still returns is told so instead of receiving 100,000 entries again (and keeps its identity).
  const sortTokens = new WeakMap<object, number>();
  let nextSortToken = 1;

  const answer = async (m: StoreRequest): Promise<void> => {
    if (m.t === 'watch') {
      if (!watches.has(m.user)) watches.set(m.user, store.watch(m.user, (change) => link.send({ t: 'change', user: m.user, change })));
      return;
    }
    if (m.t === 'unwatch') {
      watches.get(m.user)?.();
      watches.delete(m.user);
      return;
    }
    let response: StoreResponse;
    try {
      let value: unknown;
      if (m.t === 'open') {
        handles.set(m.handle, await store.open(m.user, m.options));
      } else {
        const h = handles.get(m.handle);
        if (!h || !REMOTE_METHODS.has(m.method)) throw new Error(`unknown store call ${m.method}`);
        const args =
          m.method === 'append'
            ? [m.args[0], withBufferContent(m.args[1] as AppendInput), ...m.args.slice(2)]
            : m.method === 'appendMany'
              ? [m.args[0], (m.args[1] as AppendInput[]).map(withBufferContent), ...m.args.slice(2)]
              : m.args;
        if (m.method === 'sortData') {
          // Optional in the contract: a store without it is answered by the fallback.
          // Every key crosses (plainSortable): a store reading them lazily may read them ahead in slices.
          const list = await sortData(h, m.args[0] as string, undefined, ALL_SORT_KEYS);
          let token = sortTokens.get(list);
          if (token === undefined) sortTokens.set(list, (token = nextSortToken++));
          value = m.args[1] === token ? { token, same: true } : { token, list: list.map(plainSortable) };
        } else if (m.method === 'messageHeads') {
          // Optional in the contract: a store without it is answered by the fallback.
          value = await messageHeads(h, m.args[0] as string, m.args[1] as number[], m.args[2] as MessageHeadOptions | undefined);
        } else if (m.method === 'expungedSince') {
          // Optional in the contract: null tells the caller to answer from the known UIDs.
          value = h.expungedSince ? await h.expungedSince(m.args[0] as string, m.args[1] as number) : null;
        } else if (m.method === 'appendMany') {
          // Optional in the contract: a store without it answers 'cannot' (the caller falls back).
          if (!h.appendMany) throw new StoreError('cannot', 'this store has no appendMany');
          value = await h.appendMany(args[0] as string, args[1] as AppendInput[]);
        } else if (m.method === 'changedSince') {
          // Optional in the contract: without it, the snapshot filtered by modseq.
          value = await messagesChangedSince(h, m.args[0] as string, m.args[1] as number);
        } else if (m.method === 'setQuota' || m.method === 'quota') {
          // Optional in the contract: a store without quotas answers 'cannot'.
          if (!store.setQuota || !h.quota) throw new StoreError('cannot', 'this store keeps no quotas');
          value = m.method === 'quota' ? await h.quota() : await store.setQuota(h.user, m.args[0] as QuotaLimits | null);
        } else if (m.method === 'getAcl' || m.method === 'setAcl' || m.method === 'sharedMailboxes') {
          // Optional in the contract: a store without access control lists answers 'cannot'.
          if (!store.sharedMailboxes || !h.getAcl || !h.setAcl) throw new StoreError('cannot', 'this store keeps no access control lists');
          if (m.method === 'sharedMailboxes') value = await store.sharedMailboxes(h.user);
          else if (m.method === 'getAcl') value = await h.getAcl(m.args[0] as string);
          else value = await h.setAcl(m.args[0] as string, m.args[1] as string, m.args[2] as string | null);
        } else if (m.method === 'getMetadata' || m.method === 'setMetadata') {
          // Optional in the contract: a store without annotations answers 'cannot'.
          if (!h.getMetadata || !h.setMetadata) throw new StoreError('cannot', 'this store keeps no annotations');
          if (m.method === 'getMetadata') value = await h.getMetadata(m.args[0] as string | null, m.args[1] as MetadataOptions | undefined);
          else {
            const writes = (m.args[1] as MetadataWrite[]).map((w) => ({ entry: w.entry, value: w.value === null ? null : asBuffer(w.value) }));
            value = await h.setMetadata(m.args[0] as string | null, writes, m.args[2] as SetMetadataOptions | undefined);
          }
        } else if (m.method === 'privateSeen' || m.method === 'setPrivateSeen') {
          // Optional in the contract: a store without per-user \Seen answers 'cannot'.
          if (!h.privateSeen || !h.setPrivateSeen) throw new StoreError('cannot', 'this store keeps no per-user \\Seen');
          value = await (h[m.method] as (...a: unknown[]) => Promise<unknown>).apply(h, args);
        } else if (m.method === 'urlauthKey' || m.method === 'resetUrlauthKeys') {
          // Optional in the contract: a store without URLAUTH keys answers 'cannot'.
          if (!h.urlauthKey || !h.resetUrlauthKeys) throw new StoreError('cannot', 'this store keeps no URLAUTH keys');
          value = await (h[m.method] as (...a: unknown[]) => Promise<unknown>).apply(h, args);
        } else if (m.method === 'vacationClaim' || m.method === 'vacationRelease') {
          // Optional even among the script methods: the owner's store decides atomically, or the
          // fallback does it with two calls (serialised only by the callers, see claimVacation).
          const scripts = sieveStorage(h);
          const [handle, address] = args as [string, string];
          value =
            m.method === 'vacationClaim'
              ? await claimVacation(scripts, handle, address, args[2] as Date, args[3] as Date)
              : await releaseVacation(scripts, handle, address, new Date(), args[2] as Date);
        } else if (isSieveMethod(m.method)) {
          // Optional in the contract: a store without script storage answers 'cannot'.
          const scripts = sieveStorage(h);
          value = await (scripts[m.method] as (...a: unknown[]) => Promise<unknown>).apply(scripts, args);
        } else value = await (h[m.method] as (...a: unknown[]) => Promise<unknown>).apply(h, args);
        if (m.method === 'close') handles.delete(m.handle);
      }
      response = { t: 'reply', id: m.id, ok: true, value };
    } catch (err) {
      response =
        err instanceof StoreError
          ? { t: 'reply', id: m.id, ok: false, kind: err.kind, message: err.message }
          : { t: 'reply', id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    link.send(response);
  };

  link.onMessage((m) => void answer(m));
  return {
    release() {
      for (const unwatch of watches.values()) unwatch();
      watches.clear();
      for (const h of handles.values()) void h.close().catch(() => undefined);
      handles.clear();
    },
  };
}

function withBufferContent(input: AppendInput): AppendInput {
  return input.content instanceof Uint8Array ? { ...input, content: asBuffer(input.content) } : input;
}
