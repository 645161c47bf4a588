/**
 * The command side of RFC 5267 UPDATE: registering a searching command's result as a live
 * context (contexts.ts), with the answers §4.3 and §4.3.1 prescribe.
 */
import type { CommandContext } from '../commands/types.js';
import { ImapError } from '../errors.js';
import { addUpdateContext, hasUpdateContext, type UpdateContext } from './contexts.js';

/**
 * RFC 5267 §4.3: a tag already in use by a live UPDATE context makes the command BAD — checked
 * before the command does anything, since "the searching command is rejected, and has no effect".
 */
export function checkUpdateTag(ctx: CommandContext, update: boolean | undefined): void {
  if (!update || ctx.state.kind !== 'selected') return;
  if (hasUpdateContext(ctx.state.view, ctx.tag)) throw ImapError.bad(`Tag ${ctx.tag.slice(0, 40)} is already used by an UPDATE context`);
}

/** Keeps the result up to date from now on, or says `* NO [NOUPDATE "tag"]` (§4.3.1) when it cannot. */
export function startUpdates(ctx: CommandContext, context: UpdateContext): void {
  if (ctx.state.kind !== 'selected') return;
  const outcome = addUpdateContext(ctx.state.view, ctx.state.mail, ctx.untagged.bind(ctx), context, ctx.server.limits.maxUpdateContexts);
  if (outcome === 'tag-in-use') throw ImapError.bad(`Tag ${ctx.tag.slice(0, 40)} is already used by an UPDATE context`);
  if (outcome === 'refused') ctx.untaggedStatus('NO', 'Too many UPDATE contexts', { name: 'NOUPDATE', args: [ctx.tag] });
}
