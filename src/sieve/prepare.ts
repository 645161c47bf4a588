/**
 * Compile-time preparation of the tests most scripts are made of: `header`, `address` and
 * `envelope` with one field, no :index, :is/:contains/:matches under i;octet or i;ascii-casemap,
 * in a script without variables (so every argument is the same string on every run). What a run
 * would otherwise look up for each such test on every message — the field by name, its keys
 * folded, its :matches patterns cut — is decided here once, and kept on the test
 * (Instruction.prepared). The header fields these tests read get slots: a run's MessageView finds
 * them while it scans the header and makes nothing of the other fields unless asked.
 *
 * Why: a 50-rule script ran ~10 µs in a loop of its own but 45–60 µs inside the LMTP server, where
 * each of its few hundred map lookups per message met cold caches (bench/RESULTS.md, issue 17).
 */
import { foldAscii, segmentsOf } from './match.js';
import type { FieldSlots, Instruction, PreparedTest, Value } from './program.js';

/** Prepares the tests of `commands` (nested ones too); returns the fields they read, by slot. */
export function prepareTests(commands: Instruction[], requires: ReadonlySet<string>): { fields: FieldSlots; memos: number } {
  const fields = new Map<string, number>();
  // With variables, names and keys may differ from run to run: nothing is prepared.
  if (requires.has('variables')) return { fields: { names: [], slots: fields }, memos: 0 };
  const all: Array<{ t: Instruction; p: PreparedTest }> = [];
  const visit = (list: readonly Instruction[]): void => {
    for (const inst of list) {
      const p = (inst.prepared = prepared(inst, fields));
      if (p) all.push({ t: inst, p });
      visit(inst.tests);
      if (inst.block) visit(inst.block);
    }
  };
  visit(commands);
  return { fields: { names: [...fields.keys()], slots: fields }, memos: shareAnswers(all) };
}

/**
 * Tests written more than once (four invoice rules each asking whether the Subject contains
 * "invoice") get one memo slot (the first MAX_MEMOS such tests): a run answers the first and reads the answer for the others. A
 * prepared test depends only on the header and the envelope, so the answer holds until editheader
 * changes the header (RunState.replaceHeader forgets the answers). Returns the slots used.
 */
function shareAnswers(all: ReadonlyArray<{ t: Instruction; p: PreparedTest }>): number {
  const bySignature = new Map<string, PreparedTest[]>();
  for (const { t, p } of all) {
    const part = t.name === 'header' ? '' : t.addressPart;
    const key = JSON.stringify([t.name, p.slot, p.envelope, part, p.fold, t.match.kind, p.keys]);
    const same = bySignature.get(key);
    if (same) same.push(p);
    else bySignature.set(key, [p]);
  }
  let memos = 0;
  for (const same of bySignature.values()) {
    if (same.length < 2) continue;
    if (memos === MAX_MEMOS) break;
    for (const p of same) p.memo = memos;
    memos++;
  }
  return memos;
}

/** Memo slots per script: one bit each in two small integers of the run (RunState.memoAsked, memoTrue). */
const MAX_MEMOS = 30;

function prepared(t: Instruction, fields: Map<string, number>): PreparedTest | null {
  if (t.name !== 'header' && t.name !== 'address' && t.name !== 'envelope') return null;
  const kind = t.match.kind;
  if (kind !== 'is' && kind !== 'contains' && kind !== 'matches') return null;
  if (t.comparator !== 'i;octet' && t.comparator !== 'i;ascii-casemap') return null;
  if (t.tags.has('index')) return null;
  const name = single(t.pos[0]);
  const keys = list(t.pos[1]);
  if (name === null || keys === null) return null;
  const lower = name.toLowerCase();
  let slot = -1;
  let envelope: PreparedTest['envelope'] = null;
  if (t.name === 'envelope') {
    if (lower !== 'from' && lower !== 'to') return null;
    envelope = lower;
  } else {
    slot = fields.get(lower) ?? fields.size;
    fields.set(lower, slot);
  }
  const fold = t.comparator === 'i;ascii-casemap';
  return {
    slot,
    envelope,
    fold,
    keys: kind === 'matches' ? keys : fold ? keys.map(foldAscii) : keys,
    segments: kind === 'matches' ? keys.map((k) => segmentsOf(k, fold)) : null,
    memo: -1,
  };
}

/** The one string of a string or a list of one; null otherwise. */
function single(v: Value | undefined): string | null {
  if (typeof v === 'string') return v;
  return Array.isArray(v) && v.length === 1 ? v[0]! : null;
}

function list(v: Value | undefined): string[] | null {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v : null;
}
