/**
 * createLmtpServer(): mail delivery over LMTP (RFC 2033) from an MTA such as Postfix.
 *
 * smtp-server runs the protocol (protocol.ts); this file accepts connections (TCP from allowed
 * addresses, UNIX sockets), checks MAIL FROM and RCPT TO, and hands each message to the delivery
 * pipeline (src/delivery/), which answers for every recipient. RFC 2033 §4.2: after DATA, one
 * reply per accepted recipient, in RCPT order — each 250 only once that recipient's copy is
 * durable in the store.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { ChunkChannel, MessageWithdrawn } from '../delivery/channel.js';
import { DeliveryPipeline, whyRefused, type LiveDelivery } from '../delivery/pipeline.js';
import { deliveryFailure, isUnexpected } from '../delivery/errors.js';
import { addressProblem } from '../delivery/recipient.js';
import { MessageSpool } from '../delivery/spool.js';
import type { DeliveryFailure, DeliveryOutcome, Recipient } from '../delivery/types.js';
import { listenOnSocket } from '../net/unix-socket.js';
import { AllowList, DEFAULT_LMTP_ALLOW_FROM } from './allow-list.js';
import { ProxyGate, type ClientPeer } from '../net/proxy-gate.js';
import { resolveLmtpLimits, type LmtpLimits } from './limits.js';
import type { LmtpListenResult, LmtpServer, LmtpServerOptions, LmtpSocketOption } from './options.js';
import { RCPT_MAILBOX_PARAM, RCPT_USER_PARAM } from './params.js';
import { lmtpConnectionClass, smtpServer } from './protocol.js';
import { failureReply, REPLIES, replyError, replyLine, replyText, type LmtpReply } from './replies.js';

export type { LmtpListenResult, LmtpServer, LmtpServerOptions, LmtpSocketOption } from './options.js';
export { DEFAULT_LMTP_LIMITS, type LmtpLimits } from './limits.js';

/** MAIL FROM parameters smtp-server checks and Postroom understands (SIZE, 8BITMIME, SMTPUTF8). */
const MAIL_PARAMS = new Set(['SIZE', 'BODY', 'SMTPUTF8']);
const RCPT_PARAMS = new Set([RCPT_USER_PARAM, RCPT_MAILBOX_PARAM]);
const CLOSE_GRACE_MS = 10_000;

type Callback = (err?: Error | null) => void;

export function createLmtpServer(options: LmtpServerOptions): LmtpServer {
  const limits: LmtpLimits = resolveLmtpLimits(options.limits);
  const logger = options.logger;
  const allow = new AllowList(options.allowFrom ?? DEFAULT_LMTP_ALLOW_FROM);
  const proxyGate = ProxyGate.create(options.proxyProtocol, logger);
  const pipeline = new DeliveryPipeline({ ...options, logger });
  const spoolDirectory = options.spoolDirectory ?? os.tmpdir();
  const sockets: LmtpSocketOption[] = (options.sockets ?? []).map((s) => (typeof s === 'string' ? { path: s } : s));
  /** Resolved at RCPT, used at DATA: keyed by the address object smtp-server keeps in the envelope. */
  const resolved = new WeakMap<SMTPServerAddress, Recipient>();
  const open = new Map<string, net.Socket>();
  const storing = new Set<Promise<unknown>>();
  const listeners: net.Server[] = [];
  let closing = false;

  const { SMTPServer } = smtpServer();
  const smtp = new SMTPServer({
    lmtp: true,
    name: options.hostname ?? os.hostname(),
    banner: 'Postroom ready',
    logger: false,
    disableReverseLookup: true,
    // No TLS and no AUTH: LMTP is for the local MTA; the TCP listener is guarded by address.
    disabledCommands: ['AUTH', 'STARTTLS', 'XCLIENT', 'XFORWARD', 'WIZ', 'SHELL', 'KILL'],
    hideSTARTTLS: true,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    size: limits.maxMessageSize,
    rejectOversized: true,
    maxRecipients: limits.maxRecipients,
    maxCommandLength: limits.maxLineLength,
    socketTimeout: limits.idleSeconds * 1000,
    closeTimeout: CLOSE_GRACE_MS,
    onMailFrom,
    onRcptTo,
    onData,
  });

  function onMailFrom(address: SMTPServerAddress, _session: SMTPServerSession, callback: Callback): void {
    const unknown = Object.keys(address.args || {}).find((k) => !MAIL_PARAMS.has(k));
    if (unknown !== undefined) return callback(replyError(REPLIES.unknownParameter('MAIL FROM', unknown)));
    const problem = address.address === '' ? null : addressProblem(address.address);
    if (problem) return callback(replyError(REPLIES.badSender(problem)));
    callback();
  }

  function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const args = address.args || {};
    const unknown = Object.keys(args).find((k) => !RCPT_PARAMS.has(k));
    if (unknown !== undefined) return callback(replyError(REPLIES.unknownParameter('RCPT TO', unknown)));
    const key = address.address.toLowerCase();
    if (session.envelope.rcptTo.some((r) => r.address.toLowerCase() === key)) {
      return callback(replyError(REPLIES.duplicateRecipient(address.address)));
    }
    const user = xtextParam(args, RCPT_USER_PARAM);
    const mailbox = xtextParam(args, RCPT_MAILBOX_PARAM);
    if (user === null || mailbox === null) return callback(replyError(REPLIES.badParameter(user === null ? RCPT_USER_PARAM : RCPT_MAILBOX_PARAM)));
    pipeline.resolve(address.address, { user, mailbox }).then(
      (recipient) => {
        resolved.set(address, recipient);
        callback();
      },
      (err: unknown) => {
        if (isUnexpected(err)) logger?.error({ err, to: address.address }, 'lmtp: recipient check failed');
        callback(replyError(failureReply(deliveryFailure(err))));
      },
    );
  }

  function onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, replies?: Array<string | Error>) => void): void {
    const recipients = session.envelope.rcptTo.map((a) => resolved.get(a));
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const socket = open.get(session.id);
    // However slowly the bytes come, DATA ends within dataSeconds (the idle timer restarts on every byte).
    const deadline = setTimeout(() => {
      logger?.warn({ session: session.id }, 'lmtp: DATA took too long; closing the connection');
      socket?.destroy();
    }, limits.dataSeconds * 1000);
    deadline.unref();
    const work = receiveAndDeliver(stream, from, recipients).then(
      (replies) => {
        clearTimeout(deadline);
        if (replies) callback(null, replies.map(toResult));
      },
      (err: unknown) => {
        clearTimeout(deadline);
        logger?.error({ err }, 'lmtp: delivery failed');
        callback(replyError(failureReply(deliveryFailure(err))));
      },
    );
    storing.add(work);
    void work.finally(() => storing.delete(work));
  }

  /** Null when the client went away before the final dot: nothing was stored and nobody is answered. */
  async function receiveAndDeliver(stream: SMTPServerDataStream, from: string, recipients: Array<Recipient | undefined>): Promise<LmtpReply[] | null> {
    const spool = new MessageSpool({ memoryMax: limits.spoolMemoryBytes, maxSize: limits.maxMessageSize, directory: spoolDirectory });
    const known = recipients.every((r) => r !== undefined) ? (recipients as Recipient[]) : null;
    const live = known ? await pipeline.startLive(from, known) : null;
    if (live) return receiveLive(stream, spool, live);
    try {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) await spool.write(chunk);
      } catch {
        return null; // the connection closed in the middle of DATA
      }
      if (!stream.readableEnded) return null;
      // smtp-server answers 552 5.3.4 itself for an oversized message (rejectOversized).
      if (spool.oversized) return [];
      // Every accepted RCPT was resolved; should one not be, all are answered 451 rather than miscounted.
      if (recipients.some((r) => r === undefined)) throw new Error('a recipient was accepted but not resolved');
      const started = performance.now();
      const outcomes = await pipeline.deliver(from, recipients as Recipient[], spool);
      const replies = outcomes.map(outcomeReply);
      const seconds = (performance.now() - started) / 1000;
      for (const reply of replies) options.metrics?.delivery?.delivery(reply.code < 300 ? 'delivered' : reply.code < 500 ? 'deferred' : 'rejected', seconds);
      return replies;
    } finally {
      await spool.release();
    }
  }

  /**
   * One recipient, nothing that depends on the message: the store writes it while it arrives
   * (written once, never held whole here). What the spool would have refused for everyone —
   * too big, NUL, a failed spool write — or a client that goes, withdraws it: the store keeps
   * nothing, and the answer is the one the ordinary path gives.
   */
  async function receiveLive(stream: SMTPServerDataStream, spool: MessageSpool, live: LiveDelivery): Promise<LmtpReply[] | null> {
    const channel = new ChunkChannel();
    spool.forwardTo((chunk) => channel.push(chunk));
    const storing = live.store(channel, () => spool.size);
    // A store that stops reading (it failed) must not leave the rest of DATA waiting for it.
    void storing.finally(() => channel.abandon());
    let refusal: DeliveryFailure | null = null;
    let gone = false;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        await spool.write(chunk);
        refusal ??= whyRefused(spool);
        if (refusal) channel.fail(new MessageWithdrawn(refusal.message));
      }
      gone = !stream.readableEnded;
    } catch {
      gone = true; // the connection closed in the middle of DATA
    }
    if (gone) channel.fail(new MessageWithdrawn('the client went away during DATA'));
    else channel.end();
    // Measured as on the ordinary path: from the final dot to the answer.
    const started = performance.now();
    try {
      const outcome = await storing;
      if (gone) return null;
      // smtp-server answers 552 5.3.4 itself for an oversized message (rejectOversized).
      if (spool.oversized) return [];
      const reply = refusal ? failureReply(refusal) : outcomeReply(outcome);
      options.metrics?.delivery?.delivery(reply.code < 300 ? 'delivered' : reply.code < 500 ? 'deferred' : 'rejected', (performance.now() - started) / 1000);
      return [reply];
    } finally {
      await spool.release();
    }
  }

  function accept(socket: net.Socket, tcp: boolean, peer?: ClientPeer): void {
    socket.on('error', () => undefined);
    if (closing) return void socket.destroy();
    const refuse = (reply: LmtpReply): void => {
      socket.end(replyLine(reply));
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const remote = peer ?? { address: socket.remoteAddress ?? 'unknown', port: socket.remotePort ?? 0 };
    if (tcp && !allow.allows(remote.address)) {
      logger?.warn({ remote: remote.address }, 'lmtp: connection from an address that is not allowed');
      options.metrics?.protocol?.connectionRefused('address');
      return refuse(REPLIES.addressNotAllowed());
    }
    if (open.size >= limits.maxConnections) {
      logger?.warn({ limit: limits.maxConnections }, 'lmtp: connection refused, too many open');
      options.metrics?.protocol?.connectionRefused('total');
      return refuse(REPLIES.tooManyConnections());
    }
    options.metrics?.protocol?.connectionOpened();
    const id = randomBytes(9).toString('base64url');
    open.set(id, socket);
    socket.once('close', () => open.delete(id));
    const LmtpConnection = lmtpConnectionClass();
    const connection = new LmtpConnection(smtp, socket, tcp ? { id, remoteAddress: remote.address, remotePort: remote.port } : { id, remoteAddress: 'unix', remotePort: 0 });
    smtp.connections.add(connection);
    connection.on('error', (err: Error) => logger?.debug({ err, session: id }, 'lmtp: connection error'));
    connection.init();
  }

  function bindTcp(port: number): Promise<number> {
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const gate = proxyGate;
      const server = net.createServer((s) =>
        gate
          ? gate.admit(s, {
              pass: (socket, peer) => accept(socket, true, peer),
              refused: () => options.metrics?.protocol?.connectionRefused('proxy'),
              refusal: (reason) => replyLine({ code: 421, enhanced: '4.7.0', text: reason }),
            })
          : accept(s, true),
      );
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        listeners.push(server);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  async function bindSocket(socket: LmtpSocketOption): Promise<void> {
    const server = net.createServer((s) => accept(s, false));
    await listenOnSocket(server, socket.path, socket.mode ?? 0o660);
    listeners.push(server);
  }

  return {
    pipeline,

    async listen(): Promise<LmtpListenResult> {
      const result: LmtpListenResult = { sockets: [] };
      if (options.port !== undefined && options.port !== null) result.port = await bindTcp(options.port);
      for (const socket of sockets) {
        await bindSocket(socket);
        result.sockets.push(socket.path);
      }
      logger?.info({ host: options.host ?? '127.0.0.1', ...result }, 'lmtp listening');
      return result;
    },

    async close(): Promise<void> {
      closing = true;
      const stopped = listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
      // From now on smtp-server answers every command with 421 (it checks its close timer).
      smtp.close();
      const goodbyeToIdle = (): void => {
        for (const connection of smtp.connections) {
          const busy = connection.session.envelope?.mailFrom || connection._dataStream;
          if (!busy) connection.send(421, replyText({ code: 421, enhanced: '4.3.2', text: 'Server shutting down' }));
        }
      };
      goodbyeToIdle();
      // Messages being stored are answered first; then their sessions are idle and told too.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS)));
      await Promise.race([Promise.allSettled([...storing]), late]);
      goodbyeToIdle();
      const gone = Promise.all([...open.values()].map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())))));
      if ((await Promise.race([gone, late])) === 'late') for (const s of open.values()) s.destroy();
      clearTimeout(timer);
      // Whatever was being stored has settled before the store closes under it.
      await Promise.allSettled([...storing]);
      pipeline.close();
      await Promise.all(stopped);
      await Promise.all(sockets.map((s) => rm(s.path, { force: true })));
    },
  };
}

function outcomeReply(outcome: DeliveryOutcome): LmtpReply {
  if (!outcome.ok) return failureReply(outcome.failure);
  return outcome.stored.length > 0 ? REPLIES.delivered(outcome.recipient.address) : REPLIES.discarded(outcome.recipient.address);
}

/** smtp-server's per-recipient result: a 250 text, or an Error with the reply code. */
function toResult(reply: LmtpReply): string | Error {
  return reply.code < 300 ? replyText(reply) : replyError(reply);
}

/**
 * A parameter smtp-server has xtext-decoded byte by byte (RFC 3461 §4): the bytes are UTF-8.
 * Undefined when absent, null when it is not a value.
 */
function xtextParam(args: Record<string, string | true>, name: string): string | undefined | null {
  const value = args[name];
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (value === true || /[^\u0000-\u00ff]/.test(value)) return null;
  const text = Buffer.from(value, 'latin1').toString('utf8');
  return text.includes('\uFFFD') || text === '' ? null : text;
}
