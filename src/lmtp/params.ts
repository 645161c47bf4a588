/**
 * RCPT TO parameters of Postroom's own LDA (`postroom deliver --user NAME --mailbox M`), xtext
 * encoded (RFC 3461 §4). They name the user and mailbox directly instead of through the address
 * rule. They give no power an LMTP client does not already have: LMTP is unauthenticated, and
 * whoever can connect can deliver to any user (which is why it is open only to the MTA).
 */
export const RCPT_USER_PARAM = 'X-POSTROOM-USER';
export const RCPT_MAILBOX_PARAM = 'X-POSTROOM-MAILBOX';
