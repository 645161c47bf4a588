/**
 * UIDBATCHES (RFC 10022): the UID ranges that cut the selected mailbox into batches of `size`
 * messages, highest UIDs first (§3.1), so a client — one in UIDONLY mode above all — can FETCH,
 * SEARCH or STORE a mailbox a batch at a time. `UIDBATCHES size [from:to]` asks for all batches or
 * batches `from` through `to` (1 is the batch of the highest UIDs).
 *
 * Each range runs from the highest UID of its batch down to the lowest; the last batch of the
 * mailbox ends at UID 1 whether or not that UID exists (§3.1.4), so the ranges cover every UID
 * a message below them could have. The answer is `* UIDBATCHES (TAG "t") r1,r2,…` — with no
 * ranges when there are none (§3.1.2). Counted over the messages this session knows (its view).
 *
 * Limits (limits.ts): a batch smaller than `minUidBatchSize` is `NO [TOOFEW]` (§3.1.3: sizes of
 * 500 and more must be served); asking for ranges that span more than `maxUidBatchMessages`
 * messages is `NO [TOOMANY]` (§3.1.7: at least 100,000). A range written high to low is `BAD
 * [CLIENTBUG]` (§3.1.5). Facts of RFC 10022 as Cyrus's implementation cites and tests them.
 */
import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';
import { ImapError } from '../errors.js';

export interface UidBatchesArgs {
  size: number;
  /** Batch numbers, 1-based, from <= to; absent: every batch. */
  from: number;
  to: number;
}

const MAX = 0xffffffff;

function parse(args: Parameters<CommandSpec['parse']>[0]): UidBatchesArgs {
  const r = new ArgReader(args);
  const size = r.number('batch size');
  // §4: nz-number. A 0 is a client bug, as Cyrus answers it (BAD [CLIENTBUG], like a range
  // written high to low, §3.1.5).
  if (size < 1 || size > MAX) throw ImapError.bad('The batch size is a number from 1 to 4294967295', 'CLIENTBUG');
  let from = 1;
  let to = MAX;
  if (r.remaining > 0) {
    const text = r.atom('batch range');
    const m = /^([1-9]\d{0,9}):([1-9]\d{0,9})$/.exec(text);
    if (!m || Number(m[1]) > MAX || Number(m[2]) > MAX) throw ImapError.bad('A batch range is two batch numbers, from:to, from 1', 'CLIENTBUG');
    from = Number(m[1]);
    to = Number(m[2]);
    if (from > to) throw ImapError.bad('A batch range goes from the lower batch number to the higher', 'CLIENTBUG');
  }
  r.end();
  return { size, from, to };
}

export const uidBatchesCommand: CommandSpec<UidBatchesArgs> = {
  name: 'UIDBATCHES',
  states: ['selected'],
  capabilities: ['UIDBATCHES'],
  parse,
  async run(ctx, { size, from, to }) {
    const state = ctx.state;
    if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
    const { minUidBatchSize, maxUidBatchMessages } = ctx.server.limits;
    if (size < minUidBatchSize) throw ImapError.no(`The smallest batch is ${minUidBatchSize} messages`, 'TOOFEW');
    const uids = state.view.uids();
    const spanned = to === MAX ? uids.length : size * (to - from + 1);
    if (spanned > maxUidBatchMessages) throw ImapError.no(`Ranges may span at most ${maxUidBatchMessages} messages`, 'TOOMANY');
    const ranges: string[] = [];
    // Batch b (1-based) holds the messages at descending positions (b-1)*size … b*size-1.
    for (let b = from, top = uids.length - 1 - (from - 1) * size; b <= to && top >= 0; b++, top -= size) {
      const bottom = top - size + 1;
      ranges.push(`${uids[top]}:${bottom <= 0 ? 1 : uids[bottom]}`);
    }
    const values = [atom('UIDBATCHES'), [atom('TAG'), ctx.tag]];
    ctx.untagged(...(ranges.length > 0 ? [...values, atom(ranges.join(','))] : values));
  },
};
