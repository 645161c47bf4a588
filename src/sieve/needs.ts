/**
 * What of the message a compiled script can look at, found once from its program: lets delivery
 * run a script as soon as the header section is in and store the body while it arrives, rather
 * than spool the whole message first (DeliveryFilter.needsMessage, src/delivery/pipeline.ts).
 */
import { programOf } from './compile.js';
import type { Instruction, Program } from './program.js';
import type { SieveScript } from './types.js';

/**
 * Commands and tests that need more than the envelope and the header section:
 *   body (RFC 5173)           the body;
 *   size (RFC 5228 §5.9)      the whole message's size, known only at its end;
 *   redirect (RFC 5228 §4.2)  the whole message, to send it on;
 *   addheader, deleteheader   (RFC 5293) the stored copy is the edited header and the body as
 *                             received, and each action may carry a different header.
 * Every other command and test (vacation included) works from the envelope and the header.
 */
const WHOLE_MESSAGE = new Set(['body', 'size', 'redirect', 'addheader', 'deleteheader']);

/** A verdict about a compiled script's program, found once per script (unknown scripts: `unknown`). */
function verdictOnce(memo: WeakMap<SieveScript, boolean>, script: SieveScript, unknown: boolean, of: (program: Program) => boolean): boolean {
  const known = memo.get(script);
  if (known !== undefined) return known;
  const program = programOf(script);
  const verdict = program ? of(program) : unknown;
  memo.set(script, verdict);
  return verdict;
}

const verdicts = new WeakMap<SieveScript, boolean>();

/** True when a run of `script` may need the whole message (see WHOLE_MESSAGE); unknown scripts: true. */
export function needsWholeMessage(script: SieveScript): boolean {
  // Every instruction counts, those under `ihave` too: what a run may reach, not what it will.
  return verdictOnce(verdicts, script, true, (program) => program.commands.some(usesWholeMessage));
}

function usesWholeMessage(i: Instruction): boolean {
  if (WHOLE_MESSAGE.has(i.name)) return true;
  return i.tests.some(usesWholeMessage) || (i.block?.some(usesWholeMessage) ?? false);
}

const keepOnly = new WeakMap<SieveScript, boolean>();

/**
 * True when every run of `script` ends in a plain keep — no flags, no header edits, nothing else
 * done: its commands are only `require`, `keep` without tags and `stop` (an empty script too:
 * its implicit keep, RFC 5228 §2.10.2). Such a script changes nothing a delivery without one
 * would do, so delivery stores the message as it stores one for a user without a script
 * (DeliveryFilter.appliesTo) and the run is not made at all. Unknown scripts: false.
 */
export function keepsOnly(script: SieveScript): boolean {
  return verdictOnce(keepOnly, script, false, (program) => program.commands.every(plainKeepStep));
}

function plainKeepStep(i: Instruction): boolean {
  if (i.name === 'require' || i.name === 'stop') return true;
  return i.name === 'keep' && i.tags.size === 0 && i.pos.length === 0;
}
