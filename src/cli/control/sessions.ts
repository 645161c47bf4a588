/** Sessions as `postroom who` shows them and `postroom kick` picks them, from either protocol. */
import type { ConnectionSummary } from '../../imap/server.js';
import type { Pop3ConnectionSummary } from '../../pop3/options.js';

export interface SessionInfo {
  id: string;
  protocol: 'imap' | 'pop3';
  user?: string;
  remoteAddress: string;
  remotePort?: number;
  secure: boolean;
  /** IMAP: the selected mailbox; POP3: INBOX once logged in. */
  mailbox?: string;
  /** IMAP: not_authenticated, authenticated, selected, hibernated; POP3: authorization, transaction. */
  state: string;
  startedAt: string;
  /** Seconds since the client last sent something. */
  idleSeconds: number;
  /** The `--workers` worker that holds it (absent in a single process). */
  worker?: number;
}

export interface SessionFilter {
  user?: string;
  id?: string;
}

export function matches(s: SessionInfo, f: SessionFilter): boolean {
  if (f.id !== undefined && s.id !== f.id) return false;
  if (f.user !== undefined && s.user?.toLowerCase() !== f.user.toLowerCase()) return false;
  return f.id !== undefined || f.user !== undefined;
}

const idle = (last: Date | undefined, now: number): number => (last ? Math.max(0, Math.round((now - last.getTime()) / 1000)) : 0);

export function imapSession(c: ConnectionSummary, state: string, now = Date.now()): SessionInfo {
  return {
    id: c.id,
    protocol: 'imap',
    ...(c.user !== undefined ? { user: c.user } : {}),
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    secure: c.secure,
    ...(c.mailbox !== undefined ? { mailbox: c.mailbox } : {}),
    state,
    startedAt: c.startedAt.toISOString(),
    idleSeconds: idle(c.lastActivity ?? c.startedAt, now),
  };
}

export function pop3Session(c: Pop3ConnectionSummary, now = Date.now()): SessionInfo {
  return {
    id: c.id,
    protocol: 'pop3',
    ...(c.user !== undefined ? { user: c.user, mailbox: 'INBOX' } : {}),
    remoteAddress: c.remoteAddress,
    ...(c.remotePort !== undefined ? { remotePort: c.remotePort } : {}),
    secure: c.secure,
    state: c.user !== undefined ? 'transaction' : 'authorization',
    startedAt: c.startedAt.toISOString(),
    idleSeconds: idle(c.lastActivity ?? c.startedAt, now),
  };
}

/** Open sessions by state, for the postroom_sessions gauge. */
export function countByState(sessions: Iterable<SessionInfo>): Array<{ state: string; count: number }> {
  const counts = new Map<string, number>();
  for (const s of sessions) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => ({ state, count }));
}
