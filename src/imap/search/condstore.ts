/**
 * RFC 7162 §3.1: SEARCH MODSEQ and STORE UNCHANGEDSINCE are "CONDSTORE enabling commands". The first
 * one in a session turns CONDSTORE on and, with a mailbox selected, must report HIGHESTMODSEQ.
 */
import type { CommandContext, SelectedView } from '../commands/types.js';

export function enableCondstore(ctx: CommandContext, view: SelectedView): void {
  if (ctx.enabled.has('CONDSTORE')) return;
  ctx.enabled.add('CONDSTORE');
  ctx.untaggedStatus('OK', 'Highest', { name: 'HIGHESTMODSEQ', args: [view.highestModseq] });
}
