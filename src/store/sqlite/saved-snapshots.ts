/**
 * Snapshots of large mailboxes saved in the database (table mailbox_snapshots, migration 4), so the
 * first SELECT after a restart reads one packed row instead of 100,000 message rows — the idea of
 * Dovecot's on-disk index, kept as simple as the snapshot cache it feeds: a saved snapshot is only
 * ever a starting point, brought up to date by modseq exactly like a cached one (snapshot-cache.ts),
 * so a stale one (the server was killed after it was saved) costs time, never correctness.
 *
 * Layout: UIDs as little-endian uint32, modseqs as float64 (exact up to 2^53), and per message an
 * index (uint32) into the distinct stored flag strings, which are kept once as a JSON array.
 */
import type { Flag, MessageMeta } from '../types.js';
import type { StoreContext } from './context.js';
import { parseFlags, serializeFlags } from './flags.js';

export interface SavedSnapshot {
  highestModseq: number;
  messages: MessageMeta[];
}

interface Row {
  highest_modseq: number;
  count: number;
  uids: Buffer;
  modseqs: Buffer;
  flag_sets: string;
  flag_refs: Buffer;
}

/** A typed view of a BLOB, copied when SQLite's buffer is not aligned for the element size. */
function typed<T extends Uint32Array | Float64Array>(buf: Buffer, Kind: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  const n = buf.length / Kind.BYTES_PER_ELEMENT;
  if (buf.byteOffset % Kind.BYTES_PER_ELEMENT === 0) return new Kind(buf.buffer as ArrayBuffer, buf.byteOffset, n);
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return new Kind(copy, 0, n);
}

export function loadSnapshot(ctx: StoreContext, mailboxId: number): SavedSnapshot | undefined {
  const row = ctx.sql.get('SELECT * FROM mailbox_snapshots WHERE mailbox_id = ?').get(mailboxId) as Row | undefined;
  if (!row) return undefined;
  const uids = typed(row.uids, Uint32Array);
  const modseqs = typed(row.modseqs, Float64Array);
  const refs = typed(row.flag_refs, Uint32Array);
  const sets = (JSON.parse(row.flag_sets) as string[]).map((s) => Object.freeze(parseFlags(s)) as Flag[]);
  if (uids.length !== row.count || modseqs.length !== row.count || refs.length !== row.count) return undefined;
  const messages: MessageMeta[] = new Array(row.count);
  for (let i = 0; i < row.count; i++) {
    const flags = sets[refs[i]!];
    if (flags === undefined) return undefined;
    messages[i] = { uid: uids[i]!, flags, modseq: modseqs[i]! };
  }
  return { highestModseq: row.highest_modseq, messages };
}

/** Writes (or replaces) the saved snapshot; the caller runs it inside a write transaction. */
export function saveSnapshot(ctx: StoreContext, mailboxId: number, snapshot: SavedSnapshot): void {
  const n = snapshot.messages.length;
  const uids = new Uint32Array(n);
  const modseqs = new Float64Array(n);
  const refs = new Uint32Array(n);
  const index = new Map<Flag[], number>();
  const byText = new Map<string, number>();
  const sets: string[] = [];
  for (let i = 0; i < n; i++) {
    const m = snapshot.messages[i]!;
    uids[i] = m.uid;
    modseqs[i] = m.modseq;
    // Flag arrays are mostly shared (one per distinct set); look up by identity first.
    let ref = index.get(m.flags);
    if (ref === undefined) {
      const text = serializeFlags(m.flags);
      ref = byText.get(text);
      if (ref === undefined) {
        ref = sets.length;
        sets.push(text);
        byText.set(text, ref);
      }
      index.set(m.flags, ref);
    }
    refs[i] = ref;
  }
  ctx.sql
    .get(
      `INSERT INTO mailbox_snapshots (mailbox_id, highest_modseq, count, uids, modseqs, flag_sets, flag_refs) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (mailbox_id) DO UPDATE SET highest_modseq = excluded.highest_modseq, count = excluded.count, uids = excluded.uids,
         modseqs = excluded.modseqs, flag_sets = excluded.flag_sets, flag_refs = excluded.flag_refs`,
    )
    .run(mailboxId, snapshot.highestModseq, n, Buffer.from(uids.buffer), Buffer.from(modseqs.buffer), JSON.stringify(sets), Buffer.from(refs.buffer));
}

export function savedModseq(ctx: StoreContext, mailboxId: number): number | undefined {
  return ctx.sql.get('SELECT highest_modseq FROM mailbox_snapshots WHERE mailbox_id = ?').pluck().get(mailboxId) as number | undefined;
}
