/**
 * The running server's MailStore, reached over the control socket: the `store` operation carries
 * RemoteStore's open/call messages (src/store/remote/), answered by
 * serveStore() on the server's own store — so what an admin command changes is published on the
 * change feed and reaches IDLE sessions like any client's change. On the client side
 * `controlledStore()` is a RemoteStore, so code written against MailStore (import, export, the
 * mailbox commands) runs the same whether it talks to a server or opens the store itself.
 *
 * Bodies cross as attachments (framing.ts): an APPEND's bytes and a read()'s are sent whole, one
 * message at a time. Change events are not forwarded: the admin tools do not watch.
 */
import { StoreError, type StoreErrorKind } from '../store/errors.js';
import { RemoteStore } from '../store/remote/remote-store.js';
import { serveStore } from '../store/remote/store-server.js';
import type { CallRequest, OpenRequest, StoreReply, StoreRequest, StoreResponse } from '../store/remote/messages.js';
import type { MailStore } from '../store/types.js';
import type { ControlClient } from './client.js';
import { ControlError, type ControlOperation, type ControlSession } from './operations.js';

const STORE_ERROR_KINDS: ReadonlySet<string> = new Set<StoreErrorKind>([
  'nonexistent', 'alreadyexists', 'noperm', 'overquota', 'inuse', 'cannot', 'hasChildren', 'limit', 'toobig', 'unavailable',
]);

interface Peer {
  ask(request: Omit<OpenRequest, 'id'> | Omit<CallRequest, 'id'>): Promise<unknown>;
}

/** One serveStore() per control connection, so its handles are closed when the client goes. */
function peerFor(store: MailStore, session: ControlSession): Peer {
  const existing = session.values.get('store') as Peer | undefined;
  if (existing) return existing;
  let deliver: ((m: StoreRequest) => void) | undefined;
  const waiting = new Map<number, (reply: StoreReply) => void>();
  let nextId = 1;
  const served = serveStore(store, {
    send: (m: StoreResponse) => {
      if (m.t === 'reply') waiting.get(m.id)?.(m);
    },
    onMessage: (listener) => (deliver = listener),
  });
  session.onClose(() => served.release());
  const peer: Peer = {
    ask(request) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, (reply) => {
          waiting.delete(id);
          if (reply.ok) resolve(reply.value);
          else reject(reply.kind ? new StoreError(reply.kind, reply.message) : new ControlError('failed', reply.message));
        });
        deliver!({ ...request, id } as StoreRequest);
      });
    },
  };
  session.values.set('store', peer);
  return peer;
}

/** The `store` control operation over `store` (the same object the protocol servers use). */
export function storeOperation(store: MailStore): ControlOperation {
  return {
    name: 'store',
    summary: 'a MailStore call: {"t":"open","handle":N,"user":U} or {"t":"call","handle":N,"method":M,"args":[...]} (src/store/remote/messages.ts)',
    async run(args, call) {
      if (args['t'] !== 'open' && args['t'] !== 'call') throw new ControlError('bad-args', 'store requests are {"t":"open"…} or {"t":"call"…}');
      return peerFor(store, call.session).ask(args as unknown as Omit<OpenRequest, 'id'> | Omit<CallRequest, 'id'>);
    },
  };
}

/** A MailStore whose calls go to the server behind `client`. */
export function controlledStore(client: ControlClient): MailStore {
  let listener: ((m: StoreResponse) => void) | undefined;
  return new RemoteStore({
    send(m: StoreRequest) {
      if (m.t !== 'open' && m.t !== 'call') return; // watch: not over the control socket
      const { id, ...request } = m;
      client.request('store', request as Record<string, unknown>).then(
        (value) => listener?.({ t: 'reply', id, ok: true, value }),
        (err: unknown) => {
          const code = err instanceof ControlError ? err.code : undefined;
          const message = err instanceof Error ? err.message : String(err);
          listener?.(
            code !== undefined && STORE_ERROR_KINDS.has(code)
              ? { t: 'reply', id, ok: false, kind: code as StoreErrorKind, message }
              : { t: 'reply', id, ok: false, message },
          );
        },
      );
    },
    onMessage(l) {
      listener = l;
    },
  });
}
