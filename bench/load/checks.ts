/** What makes each response right. A wrong answer throws CheckError and counts as an error. */
import type { Completion, Response } from './wire-client.js';
import { verifyEnvelope, verifyWholeMessage } from './messages.js';

export class CheckError extends Error {}

export function expectOk(c: Completion, what: string): void {
  if (c.status !== 'OK') throw new CheckError(`${what}: ${c.tagged.slice(0, 160)}`);
}

export function untaggedNumber(c: Completion, keyword: string): number | undefined {
  const re = new RegExp(`^\\* (\\d+) ${keyword}$`, 'i');
  for (const r of c.untagged) {
    const m = re.exec(r.text);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export function respCode(c: Completion, code: string): number | undefined {
  const re = new RegExp(`\\[${code} (\\d+)\\]`, 'i');
  for (const r of [...c.untagged.map((u) => u.text), c.tagged]) {
    const m = re.exec(r);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export interface FetchItem {
  seq: number;
  uid: number;
  flags: string[] | null;
  response: Response;
}

const FETCH_RE = /^\* (\d+) FETCH \((.*)\)$/is;

/** The FETCH responses of a completion that answer a UID command. */
export function fetchItems(c: Completion): FetchItem[] {
  const out: FetchItem[] = [];
  for (const r of c.untagged) {
    const m = FETCH_RE.exec(r.text);
    if (!m) continue;
    const uid = /(?:^|[ (])UID (\d+)/i.exec(m[2]!);
    // RFC 3501 §6.4.8: UID FETCH/STORE answers carry UID; one without is another session's
    // unsolicited flag update (§7.4.2), which is not what we asked for.
    if (!uid) continue;
    const flags = /FLAGS \(([^)]*)\)/i.exec(m[2]!);
    out.push({ seq: Number(m[1]), uid: Number(uid[1]), flags: flags ? flags[1]!.split(' ').filter(Boolean) : null, response: r });
  }
  return out;
}

export function checkFlagsFetch(c: Completion, lo: number): number[] {
  expectOk(c, 'UID FETCH FLAGS');
  const items = fetchItems(c);
  const seen = new Set<number>();
  for (const it of items) {
    // A UID may come twice: another session's STORE may be reported unsolicited (RFC 3501 §7.4.2).
    if (it.flags === null) throw new CheckError(`UID ${it.uid}: FETCH without FLAGS`);
    seen.add(it.uid);
  }
  // A UID below `lo` is not an error: an unsolicited FLAGS update for another message may carry
  // its UID too, and "n:*" includes the highest UID even when it is below n (§6.4.8).
  void lo;
  return [...seen];
}

export function checkEnvelopes(c: Completion, lo: number, hi: number): number {
  expectOk(c, 'UID FETCH ENVELOPE');
  let n = 0;
  for (const it of fetchItems(c)) {
    if (!/ENVELOPE \(/i.test(it.response.text)) continue;
    if (it.uid < lo || it.uid > hi) throw new CheckError(`UID ${it.uid} outside ${lo}:${hi}`);
    // Literals inside the envelope (rare) are put back so the check sees the whole text.
    const text = it.response.text.replace(/\{#(\d+)\}/g, (_, k: string) => `"${it.response.literals[Number(k)]!.toString('latin1')}"`);
    const problem = verifyEnvelope(text);
    if (problem) throw new CheckError(`UID ${it.uid}: ${problem}`);
    const size = /RFC822\.SIZE (\d+)/i.exec(text);
    const id = /<\d+\.(\d{8})\.[0-9a-f]{8}@bench\.example>/.exec(text);
    if (!size || !id || Number(size[1]) !== Number(id[1])) throw new CheckError(`UID ${it.uid}: RFC822.SIZE does not match`);
    n++;
  }
  return n;
}

/** Returns true when the message was there (it may have been expunged by another client). */
export function checkBody(c: Completion, uid: number): boolean {
  expectOk(c, 'UID FETCH BODY[]');
  // A FETCH for the same UID without BODY[] is another session's flag change (§7.4.2), not our answer.
  const answers = fetchItems(c).filter((it) => it.uid === uid && /BODY\[\] \{#\d+\}/i.test(it.response.text));
  for (const it of answers) {
    const m = /BODY\[\] \{#(\d+)\}/i.exec(it.response.text)!;
    const problem = verifyWholeMessage(it.response.literals[Number(m[1])]!);
    if (problem) throw new CheckError(`UID ${uid}: ${problem}`);
  }
  return answers.length > 0;
}

export function checkStore(c: Completion, uid: number, flag: string, added: boolean): void {
  expectOk(c, 'UID STORE');
  // Another session's STORE on the same message may be reported in the same response (RFC 3501
  // §7.4.2), so one FETCH for the UID showing our change is enough; none at all means expunged.
  const mine = fetchItems(c).filter((it) => it.uid === uid && it.flags !== null);
  if (mine.length === 0) return;
  const ok = mine.some((it) => it.flags!.some((f) => f.toLowerCase() === flag.toLowerCase()) === added);
  if (!ok) throw new CheckError(`UID ${uid}: ${flag} ${added ? 'missing after +FLAGS' : 'still there after -FLAGS'}`);
}
