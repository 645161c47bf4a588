/**
 * RFC 7162 §3.1 "CONDSTORE enabling commands": SELECT/EXAMINE (CONDSTORE), STATUS (HIGHESTMODSEQ),
 * FETCH/SEARCH with MODSEQ, FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE, ENABLE CONDSTORE. From the
 * first one on, every FETCH response carries MODSEQ; if a mailbox is selected when it happens, the
 * client must be told that mailbox's HIGHESTMODSEQ at once (it missed it at SELECT). SELECT and
 * ENABLE turn the extension on themselves: SELECT reports HIGHESTMODSEQ anyway, ENABLE cannot run
 * with a mailbox selected.
 */
import type { CommandContext, SelectedView } from '../commands/types.js';

export function enableCondstore(ctx: CommandContext, view: SelectedView | undefined): void {
  if (ctx.enabled.has('CONDSTORE')) return;
  ctx.enabled.add('CONDSTORE');
  if (view) ctx.untaggedStatus('OK', 'Highest', { name: 'HIGHESTMODSEQ', args: [view.highestModseq] });
}
