/**
 * Login referrals (RFC 2221): a user whose mail is served by another server is sent there with
 * `NO [REFERRAL imap://…]` instead of being let in here. The URL comes from the authenticator's
 * `referral()` hook (for the users file, a `referral=` extra field).
 */

/** Long enough for any real host and user name; keeps a bad users-file line from making a huge reply. */
export const MAX_REFERRAL_LENGTH = 1024;

/**
 * Whether `url` can go out in a REFERRAL response code: an IMAP URL (RFC 5092 §6, `imap://`)
 * of printable ASCII without space or "]" — RFC 2221 §4.1's code is `[REFERRAL url]`, so either
 * would end it early.
 */
export function isUsableReferral(url: string): boolean {
  return url.length <= MAX_REFERRAL_LENGTH && /^imap:\/\/[!-\\^-~]+$/i.test(url);
}
