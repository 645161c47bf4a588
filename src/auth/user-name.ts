/** Rules for user names and passwords stored in the users file. */

/**
 * Why a user name is unusable, or null when it is fine. Names become passwd-file keys (so no ':'
 * or line breaks) and are often used by stores as directory names (so no '/', '\\', '.' or '..');
 * e-mail-address style names ("ann@example.org") are fine.
 */
export function userNameProblem(name: string): string | null {
  if (name.length === 0) return 'user name is empty';
  if (Buffer.byteLength(name, 'utf8') > 255) return 'user name is longer than 255 bytes';
  if (name === '.' || name === '..') return 'user name may not be "." or ".."';
  if (name.startsWith('#')) return 'user name may not start with "#"';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f:/\\]/.test(name)) return 'user name may not contain spaces, control characters, ":", "/" or "\\"';
  return null;
}

/**
 * Why a password is unusable, or null. NUL cannot travel in SASL PLAIN (RFC 4616 §2) and CR/LF
 * cannot be typed into IMAP LOGIN or POP3 PASS, so such a password could never be used.
 */
export function passwordProblem(password: string): string | null {
  if (password.length === 0) return 'password is empty';
  if (/[\0\r\n]/.test(password)) return 'password may not contain NUL, CR or LF';
  return null;
}
