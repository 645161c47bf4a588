/**
 * Durability timings for the operations listener (src/metrics/): how long each write waits for
 * its WAL fdatasync, and how long each checkpoint takes. Measured by wrapping the two objects'
 * entry points here, so wal-sync.ts and checkpointer.ts keep no metrics code of their own.
 */
import type { SqliteTimings } from '../../metrics/types.js';
import type { Checkpointer } from './checkpointer.js';
import type { GroupCommit } from './group-commit.js';
import type { WalSync } from './wal-sync.js';

function measured(fn: () => Promise<void>, report: (seconds: number) => void): () => Promise<void> {
  return () => {
    const started = performance.now();
    return fn().finally(() => report((performance.now() - started) / 1000));
  };
}

export function reportTimings(durable: WalSync, checkpointer: Checkpointer, timings: SqliteTimings, group?: GroupCommit): void {
  // Instance properties shadow the prototype methods; the checkpointer's own timer calls
  // this.checkpoint() and so goes through the wrapper too.
  durable.sync = measured(durable.sync.bind(durable), timings.walSync);
  checkpointer.checkpoint = measured(checkpointer.checkpoint.bind(checkpointer), timings.checkpoint);
  const held = timings.writesHeld?.bind(timings);
  if (group && held) {
    const hold = group.hold.bind(group);
    group.hold = () => {
      const started = performance.now();
      const release = hold();
      let reported = false;
      return () => {
        if (!reported) held((performance.now() - started) / 1000);
        reported = true;
        release();
      };
    };
  }
}
