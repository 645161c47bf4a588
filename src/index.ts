/**
 * Postroom's public API: servers, stores, authenticators and the types to write your own.
 */
export { createImapServer, ImapServer, type BoundPorts, type ConnectionSummary, type CloseOptions } from './imap/server.js';
export type { ImapHooks, ImapSessionInfo, ImapCommandEvent, ImapAuthEvent } from './imap/hooks.js';
export { CommandRegistry } from './imap/commands/registry.js';
export { parseSequenceSet, resolveRanges, type SequenceSet, type SeqRange, type SeqNumber } from './imap/wire/sequence-set.js';
export type { ResponseCode, AtomValue, LiteralValue, ConcatValue } from './imap/wire/types.js';
export type { ImapServerOptions } from './imap/server-options.js';
export type { ImapEventListener, ImapMessageEvent, ImapEventCause } from './imap/message-events.js';
export { createImapSieve, IMAPSIEVE_ENTRY, type ImapSieve, type ImapSieveOptions } from './imapsieve/index.js';
export { DEFAULT_IMAP_LIMITS, type ImapLimits } from './imap/limits.js';
export type {
  CommandSpec,
  CommandContext,
  Completion,
  SessionState,
  SelectedView,
  ConnectionInfo,
  ParseEnv,
  StateKind,
  ServerContext,
  ViewObserver,
  SequenceArgs,
  AnyCommandSpec,
} from './imap/commands/types.js';
export { ImapError } from './imap/errors.js';
export { ArgReader, ParseError } from './imap/wire/args.js';
export { atom, literal, type ImapValue, type Token } from './imap/wire/types.js';

export type * from './store/types.js';
export { SYSTEM_FLAGS } from './store/types.js';
export type { SearchQuery, UidRanges, Day } from './store/search-query.js';
export { StoreError, isStoreError, type StoreErrorKind, type StoreErrorOptions } from './store/errors.js';
export { MemoryStore } from './store/memory/index.js';
export { ChangeFeed } from './store/change-feed.js';
export { validateMailboxName } from './store/names.js';
export { matchesQuery, TextCache } from './store/search-eval.js';
export { toCrlf, isCrlf, crlfContent } from './store/line-ends.js';
export { pinnedStream, bufferChunks, STREAM_CHUNK } from './store/pinned-stream.js';

export type { Authenticator, AuthRequest, AuthResult, ScramCredentials, TokenRequest } from './auth/types.js';
export { withTokenVerifier, deriveScramKeys, saslMechanisms, findSaslMechanism } from './auth/sasl/index.js';
export type { SaslMechanism, SaslExchange, SaslStep, SaslContext } from './auth/sasl/types.js';
export { StaticAuthenticator } from './auth/static-users.js';
export { LoginGuard, type LoginGuardOptions } from './auth/login-guard.js';

export type { MessageStructure, MimePart, Envelope, Address } from './mime/types.js';
export { parseMessage } from './mime/index.js';
export type { TlsOptions } from './net/tls.js';
export type { Logger } from './util/logger.js';

export { SqliteStore } from './store/sqlite/index.js';
export { createPop3Server, apopDigest, DEFAULT_POP3_LIMITS } from './pop3/server.js';
export type {
  Pop3ServerOptions,
  Pop3Callbacks,
  Pop3Limits,
  Pop3Server,
  Pop3ConnectionInfo,
  Pop3ConnectionSummary,
  Pop3ExpirePolicy,
  Pop3ListenResult,
  Pop3LoginDelayPolicy,
  Pop3LoginResult,
  Pop3MessageContent,
  Pop3Hooks,
  Pop3CommandEvent,
  Pop3AuthEvent,
} from './pop3/server.js';
export { Pop3Error } from './pop3/errors.js';
export { UserFileAuthenticator, UserFile, type UserFileAuthenticatorOptions } from './auth/user-file.js';

export { createLmtpServer, DEFAULT_LMTP_LIMITS } from './lmtp/server.js';
export type { LmtpLimits, LmtpListenResult, LmtpServer, LmtpServerOptions, LmtpSocketOption } from './lmtp/server.js';
export { LmtpClient, type LmtpTarget, type LmtpTransactionResult } from './lmtp/client.js';
export { DeliveryPipeline, type DeliveryOptions, type DeliveryPipelineOptions } from './delivery/pipeline.js';
export { MessageSpool } from './delivery/spool.js';
export type { DeliveryAction, DeliveryFailure, DeliveryFailureKind, DeliveryFilter, DeliveryOutcome, FilterInput, Recipient } from './delivery/types.js';
export { Metrics, type MetricsOptions } from './metrics/prometheus.js';
export { timedStore } from './metrics/store-timing.js';
export { startOpsListener, type OpsListener, type OpsListenerOptions, type ReadinessCheck } from './metrics/http.js';
export {
  NO_PROTOCOL_METRICS,
  type ProtocolMetrics,
  type DeliveryMetrics,
  type LoginGuardObserver,
  type StoreObserver,
  type SqliteTimings,
} from './metrics/types.js';
