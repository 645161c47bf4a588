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

/** Sessions open for one address or user; every slot of that key shares it (and its key string). */
interface Counter {
  readonly key: string;
  n: number;
  readonly limiter: ConnectionLimiter;
  /** Counts connections (and so the total too), not authenticated users. */
  readonly connection: boolean;
}

export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, Counter>();
  private readonly perUser = new Map<string, Counter>();

  constructor(private readonly options: ConnectionLimitOptions) {}

  get open(): number {
    return this.total;
  }

  /** Takes a place for a new connection from `address`, or says which limit it would break. */
  admitConnection(address: string): ConnectionSlot | Refusal {
    if (this.total >= this.options.maxConnections) return 'total';
    if ((this.perIp.get(address)?.n ?? 0) >= this.options.maxConnectionsPerIp) return 'address';
    this.total++;
    return new Slot(this.count(this.perIp, address, true));
  }

  /** Takes a place for an authenticated session of `user` (case-insensitive, like the login guard). */
  admitUser(user: string): ConnectionSlot | 'user' {
    const key = user.toLowerCase();
    if ((this.perUser.get(key)?.n ?? 0) >= this.options.maxConnectionsPerUser) return 'user';
    return new Slot(this.count(this.perUser, key, false));
  }

  /** Called once per slot (Slot.release). */
  free(counter: Counter): void {
    if (counter.connection) this.total--;
    const map = counter.connection ? this.perIp : this.perUser;
    // Entries at zero are deleted so that a scan of many addresses cannot grow the map for ever.
    if (--counter.n <= 0 && map.get(counter.key) === counter) map.delete(counter.key);
  }

  private count(map: Map<string, Counter>, key: string, connection: boolean): Counter {
    let counter = map.get(key);
    if (!counter) {
      counter = { key, n: 0, limiter: this, connection };
      map.set(key, counter);
    }
    counter.n++;
    return counter;
  }

  /** Sessions of `user` open now (for tests and admin views). */
  userSessions(user: string): number {
    return this.perUser.get(user.toLowerCase())?.n ?? 0;
  }
}

/** A class rather than a closure, and no strings of its own: one per connection. */
class Slot implements ConnectionSlot {
  constructor(private counter: Counter | null) {}

  release(): void {
    const counter = this.counter;
    this.counter = null;
    counter?.limiter.free(counter);
  }

  /** Hands the place over to the caller (holdPlace): this slot no longer releases it. */
  detach(): Counter | null {
    const counter = this.counter;
    this.counter = null;
    return counter;
  }
}

/**
 * A slot's place, still counted, without an object of its own: what a hibernated IMAP session keeps
 * (tens of thousands are held at once, src/imap/session/hibernation.ts) — a reference to the
 * counter its key shares with every other slot of that key.
 */
export type HeldPlace = { readonly __heldPlace: true };

/** Turns `slot` into its bare place; null when it was already released. The slot is spent. */
export function holdPlace(slot: ConnectionSlot): HeldPlace | null {
  // A ConnectionSlot made elsewhere is kept as it is.
  const place = slot instanceof Slot ? slot.detach() : slot;
  return place as unknown as HeldPlace | null;
}

/** The place as a slot again, to be released once like any other. */
export function slotFromPlace(place: HeldPlace): ConnectionSlot {
  const kept = place as unknown as ConnectionSlot | Counter;
  return 'release' in kept ? kept : new Slot(kept);
}
