/**
 * Connection accounting shared by the IMAP and POP3 servers: how many sessions are open in total,
 * from each remote address, and for each user. A server asks before greeting a client (total and
 * per address) and again when a login succeeds (per user); each grant is released exactly once.
 */
export interface ConnectionLimitOptions {
  /** Open connections on one server, all listeners together. */
  maxConnections: number;
  /** Open connections from one remote address. */
  maxConnectionsPerIp: number;
  /** Authenticated sessions of one user. */
  maxConnectionsPerUser: number;
}

export type Refusal = 'total' | 'address' | 'user';

/** A held place; release() is idempotent, so every close path may call it. */
export interface ConnectionSlot {
  release(): void;
}

export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly perUser = new Map<string, number>();

  constructor(private readonly options: ConnectionLimitOptions) {}

  get open(): number {
    return this.total;
  }

  /** Takes a place for a new connection from `address`, or says which limit it would break. */
  admitConnection(address: string): ConnectionSlot | Refusal {
    if (this.total >= this.options.maxConnections) return 'total';
    if ((this.perIp.get(address) ?? 0) >= this.options.maxConnectionsPerIp) return 'address';
    this.total++;
    increment(this.perIp, address);
    return once(() => {
      this.total--;
      decrement(this.perIp, address);
    });
  }

  /** Takes a place for an authenticated session of `user` (case-insensitive, like the login guard). */
  admitUser(user: string): ConnectionSlot | 'user' {
    const key = user.toLowerCase();
    if ((this.perUser.get(key) ?? 0) >= this.options.maxConnectionsPerUser) return 'user';
    increment(this.perUser, key);
    return once(() => decrement(this.perUser, key));
  }

  /** Sessions of `user` open now (for tests and admin views). */
  userSessions(user: string): number {
    return this.perUser.get(user.toLowerCase()) ?? 0;
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

// Entries at zero are deleted so that a scan of many addresses cannot grow the map for ever.
function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

function once(fn: () => void): ConnectionSlot {
  let done = false;
  return {
    release() {
      if (done) return;
      done = true;
      fn();
    },
  };
}
