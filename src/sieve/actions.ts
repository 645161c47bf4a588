/**
 * Duplicate actions collapsed (RFC 5228 §2.10.3): filing into the same mailbox twice files once
 * (keep counts as filing into INBOX), redirecting to the same address twice sends once, discard
 * once. The first occurrence keeps its place; flags of the duplicates are merged into it.
 */
import type { SieveAction } from './types.js';
import { canonicalFlags } from './state.js';

/** The mailbox an action files into; keep's is INBOX at delivery, the message's own at an IMAP event. */
function mailboxKey(a: SieveAction, keepMailbox: string): string | null {
  if (a.type === 'keep') return boxKey(keepMailbox);
  if (a.type === 'fileinto') return boxKey(a.mailbox);
  return null;
}

function boxKey(name: string): string {
  return name.toLowerCase() === 'inbox' ? 'inbox' : `box:${name}`;
}

function redirectKey(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : address.slice(0, at) + address.slice(at).toLowerCase();
}

export function collapse(actions: readonly SieveAction[], keepMailbox = 'INBOX'): SieveAction[] {
  // Most runs end with no explicit action (an implicit keep follows): nothing to collapse.
  if (actions.length === 0) return [];
  const out: SieveAction[] = [];
  // Made when needed: most runs end with one action or none.
  let filed: Map<string, number> | undefined;
  let redirected: Map<string, number> | undefined;
  for (const a of actions) {
    const box = mailboxKey(a, keepMailbox);
    if (box !== null) {
      filed ??= new Map();
      const at = filed.get(box);
      if (at === undefined) {
        filed.set(box, out.length);
        out.push({ ...a } as SieveAction);
        continue;
      }
      const first = out[at]! as Extract<SieveAction, { type: 'keep' | 'fileinto' }>;
      const flags = canonicalFlags([...(first.flags ?? []), ...((a as { flags?: readonly string[] }).flags ?? [])]);
      let merged: SieveAction = flags.length > 0 ? { ...first, flags } : first;
      // A keep and a fileinto "INBOX" are the same delivery; keep, the plainer, stands for both.
      if (merged.type === 'fileinto' && a.type === 'keep') merged = { type: 'keep', ...(flags.length > 0 ? { flags } : {}), ...(first.header ? { header: first.header } : {}) };
      if (merged.type === 'fileinto' && a.type === 'fileinto') merged = { ...merged, create: merged.create || a.create, copy: merged.copy && a.copy };
      out[at] = merged;
    } else if (a.type === 'redirect') {
      const key = redirectKey(a.address);
      redirected ??= new Map();
      const at = redirected.get(key);
      if (at === undefined) {
        redirected.set(key, out.length);
        out.push({ ...a });
      } else {
        const first = out[at] as Extract<SieveAction, { type: 'redirect' }>;
        out[at] = { ...first, copy: first.copy && a.copy };
      }
    } else if (a.type === 'discard') {
      if (!out.some((x) => x.type === 'discard')) out.push(a);
    } else {
      out.push(a);
    }
  }
  return out;
}
