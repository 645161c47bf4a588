/**
 * Strict UTF-8 decoding for SASL credentials. A lenient decoder would map invalid bytes to U+FFFD,
 * letting two different byte strings name the same user; RFC 4616 §2 requires valid UTF-8.
 */
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes `bytes` as UTF-8, or returns null when they are not valid UTF-8 or contain NUL. */
export function decodeSaslString(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Upper bound on any single credential field. RFC 4616 §2 requires accepting 255 octets; we take
 * more (long passphrases, e-mail-address user names) but refuse megabyte-sized "passwords" before
 * they reach a deliberately slow password hash.
 */
export const MAX_SASL_FIELD_OCTETS = 1024;
