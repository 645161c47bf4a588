/** What one simulated client does. Each scenario is a closed loop (no think time) until the deadline. */
/**
 * `busy` is `mixed` without IDLE's wait for news (200–1,000 ms of nothing per IDLE): the mix an
 * independent stress tool such as imaptest sends, where a single client's rate measures the server
 * and not the pauses. The others: see MIXES.
 */
export type ScenarioName = 'mixed' | 'busy' | 'fetch' | 'append' | 'idle';

export interface LoadConfig {
  host: string;
  port: number;
  /** Several servers (cluster nodes): client i connects to ports[i % ports.length] instead of `port`. */
  ports?: number[];
  /** Implicit TLS (the port is an IMAPS port; any certificate is accepted). */
  tls?: boolean;
  /**
   * Persistent sessions: each client logs in once and repeats its rounds (LIST, STATUS, SELECT,
   * commands) on the same connection until the deadline, as a mail client does, instead of
   * logging out and reconnecting after every round.
   */
  persistent?: boolean;
  users: string[];
  password: string;
  /** Clients in this worker process. */
  clients: number;
  /** Clients in all workers together. */
  totalClients: number;
  /** Index of this worker's first client (clients are spread over users by global index). */
  firstClient: number;
  seconds: number;
  scenario: ScenarioName;
  /** Seeds APPENDed messages apart between workers and runs. */
  seed: number;
  /** Logins in flight at once while connecting (the idle scenario opens thousands). */
  connectConcurrency: number;
  /**
   * Commands per second offered by all clients together; absent: no think time (each client sends
   * its next command as soon as the last is answered, which saturates the server).
   */
  rate?: number;
}

/** Relative weights of the operations inside a selected session. */
export const MIXES: Record<Exclude<ScenarioName, 'idle'>, Record<string, number>> = {
  mixed: { fetchFlags: 15, fetchEnvelope: 15, fetchBody: 20, store: 15, append: 10, expunge: 8, idle: 4, noop: 8, status: 5 },
  busy: { fetchFlags: 15, fetchEnvelope: 15, fetchBody: 20, store: 15, append: 10, expunge: 8, noop: 8, status: 5 },
  fetch: { fetchFlags: 30, fetchEnvelope: 35, fetchBody: 35 },
  append: { append: 90, expunge: 10 },
};

/** Operations per login session before LOGOUT and a fresh connection. */
export const SESSION_OPS: Record<Exclude<ScenarioName, 'idle'>, [number, number]> = {
  mixed: [10, 40],
  busy: [10, 40],
  fetch: [100, 200],
  append: [50, 100],
};
