import { MessageChannel } from 'node:worker_threads';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { RemoteStore } from '../../src/store/remote/remote-store.js';
import { serveStore } from '../../src/store/remote/store-server.js';
import { isStoreRequest, isStoreResponse } from '../../src/store/remote/messages.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailStore } from '../../src/store/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-remote-conf-');
const backing = new Map<MailStore, () => Promise<void>>();

// The contract through the remote link the cluster's workers use: every call, result, error kind
// and change event crosses a MessagePort by structured clone (which turns Buffers into plain
// Uint8Arrays, unlike process IPC), to a SqliteStore on the other side.
runStoreConformance(
  'RemoteStore over a MessagePort',
  async () => {
    const sqlite = await SqliteStore.open({ directory: tempDir() });
    const { port1, port2 } = new MessageChannel();
    const peer = serveStore(sqlite, {
      send: (m) => port1.postMessage(m),
      onMessage: (listener) => port1.on('message', (m: unknown) => isStoreRequest(m) && listener(m)),
    });
    const remote = new RemoteStore({
      send: (m) => port2.postMessage(m),
      onMessage: (listener) => port2.on('message', (m: unknown) => isStoreResponse(m) && listener(m)),
    });
    backing.set(remote, async () => {
      peer.release();
      port1.close();
      await sqlite.close();
    });
    return remote;
  },
  {
    cleanup: async (store) => {
      await backing.get(store)?.();
      backing.delete(store);
    },
  },
);
