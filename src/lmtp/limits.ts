/**
 * Every LMTP limit, in one place, with its default. Each is an option of
 * createLmtpServer({ limits: { ... } }) and of the config file (`lmtpLimits`, docs/configuration.md).
 */
import { DEFAULT_IMAP_LIMITS } from '../imap/limits.js';

export interface LmtpLimits {
  /**
   * Largest message in octets, advertised as SIZE (RFC 1870). A MAIL FROM with a larger SIZE= gets
   * 552 5.3.4 at once; a larger DATA is read to its end without keeping the bytes and every
   * recipient gets 552 5.3.4. Defaults to IMAP's maxMessageSize, so anything delivered can also
   * be APPENDed back.
   */
  maxMessageSize: number;
  /** Recipients in one transaction; more get 452 4.5.3 and the MTA sends them in another one. */
  maxRecipients: number;
  /** Open LMTP connections (TCP and sockets together); one more is greeted 421 4.3.2 and closed. */
  maxConnections: number;
  /** Longest command line in octets (RFC 5321 §4.5.3.1.4 asks for at least 512). Longer: 421 and close. */
  maxLineLength: number;
  /**
   * Seconds a connection may wait with nothing from the client between commands, or between
   * pieces of DATA (RFC 5321 §4.5.3.2.7 asks servers for at least 5 minutes). Then: 421 and close.
   */
  idleSeconds: number;
  /** Seconds DATA may take from the 354 to the final dot, however the bytes trickle in. Then the connection is cut. */
  dataSeconds: number;
  /** Messages up to this many octets are held in memory while being delivered; larger ones go to a temporary file. */
  spoolMemoryBytes: number;
}

export const DEFAULT_LMTP_LIMITS: LmtpLimits = {
  maxMessageSize: DEFAULT_IMAP_LIMITS.maxMessageSize,
  maxRecipients: 1000,
  maxConnections: 100,
  maxLineLength: 4096,
  idleSeconds: 300,
  dataSeconds: 600,
  spoolMemoryBytes: 256 * 1024,
};

export function resolveLmtpLimits(partial: Partial<LmtpLimits> = {}): LmtpLimits {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_LMTP_LIMITS)) throw new RangeError(`unknown LMTP limit "${k}" (known: ${Object.keys(DEFAULT_LMTP_LIMITS).join(', ')})`);
  }
  const limits = { ...DEFAULT_LMTP_LIMITS, ...partial };
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`LMTP limit ${k} must be a positive number`);
  }
  if (limits.maxLineLength < 512) throw new RangeError('LMTP limit maxLineLength must be at least 512 (RFC 5321 §4.5.3.1.4)');
  if (limits.maxRecipients < 100) throw new RangeError('LMTP limit maxRecipients must be at least 100 (RFC 5321 §4.5.3.1.8)');
  return limits;
}
