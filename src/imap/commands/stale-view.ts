/**
 * When this session's own STORE or FETCH finds the store other than its view says — a message the
 * view holds is gone, or flags it would change are already as asked — another session changed it
 * and its change event has not reached this session yet. In one process that cannot be: the event
 * is delivered at the commit, before the other session is answered. When the store is opened by
 * several processes (PostgreSQL nodes, `--sqlite-workers own-store`) the event crosses after the
 * commit, so the session reads the messages concerned and queues what it finds as if the event
 * had come: the EXPUNGE is reported at the next command that may report one, the flags with this
 * command's end, as they would have been. Reads nothing unless the view was found stale.
 */
import type { MessageMeta, UserMailbox } from '../../store/types.js';
import type { SelectedView } from './types.js';

/** Reads `uids` (found stale) and tells the view what became of them; returns the ones still there. */
export async function catchUpStale(mail: UserMailbox, view: SelectedView, uids: number[]): Promise<MessageMeta[]> {
  if (uids.length === 0 || !view.noteChangedElsewhere) return [];
  const current = await mail.records(view.mailbox.id, uids);
  const present = new Set(current.map((r) => r.uid));
  view.noteChangedElsewhere(
    uids.filter((uid) => !present.has(uid)),
    current,
  );
  return current;
}
