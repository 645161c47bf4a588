/**
 * `postroom deliver` exits with sysexits(3) codes, which Postfix (`mailbox_command`), fetchmail
 * (`mda`) and procmail read: 75 means "keep the message and try again later", the others bounce it.
 */
export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOUSER = 67;
export const EX_SOFTWARE = 70;
export const EX_TEMPFAIL = 75;
export const EX_NOPERM = 77;

/**
 * From the LMTP reply a recipient got (from the server, or as src/lmtp/replies.ts would have
 * answered when delivering directly) to the exit status: one mapping for both paths.
 */
export function exitCodeForReply(code: number, enhanced: string | undefined): number {
  if (code >= 200 && code < 300) return EX_OK;
  if (code >= 400 && code < 500) return EX_TEMPFAIL;
  const subject = enhanced?.split('.').slice(1).join('.') ?? '';
  if (subject.startsWith('1.')) return EX_NOUSER; // x.1.*: addressing (5.1.1 no such user, 5.1.3 bad address)
  if (subject.startsWith('7.') || subject === '2.1') return EX_NOPERM; // policy: rejected, mailbox disabled
  return EX_DATAERR; // 5.3.4 too big, 5.6.0 content, anything else permanent
}
