/**
 * Where `postroom deliver` takes the message. The SQLite store is held by one process at a time
 * (docs/sqlite.md), so while a server runs the message must go through it: over LMTP, to the
 * server's private socket DATA/deliver.sock, or the `lmtpSocket` / `lmtpPort` of its config. Only
 * when no server answers does deliver open the store itself — briefly: the message is read in
 * full first. Two deliveries, or a server starting meanwhile, take turns at the lock.
 */
import { join } from 'node:path';
import type { Logger } from '../../util/logger.js';
import { UserFile, UserFileAuthenticator } from '../../auth/user-file.js';
import { listenPort } from '../../config/ports.js';
import type { ServeSettings } from '../../config/settings.js';
import { deliveryFailure } from '../../delivery/errors.js';
import { DeliveryPipeline } from '../../delivery/pipeline.js';
import { addressProblem } from '../../delivery/recipient.js';
import type { MessageSpool } from '../../delivery/spool.js';
import { LmtpClient, LmtpClientError, xtext, type LmtpTarget } from '../../lmtp/client.js';
import { failureReply, REPLIES } from '../../lmtp/replies.js';
import { RCPT_MAILBOX_PARAM, RCPT_USER_PARAM } from '../../lmtp/params.js';
import { isStoreError } from '../../store/errors.js';
import { deliverSocketPath } from '../delivery.js';

export interface DeliverRequest {
  user: string;
  mailbox?: string;
  /** Envelope sender, "" for the null sender. */
  from: string;
  /** The recipient address (Delivered-To:, logs). */
  address: string;
  spool: MessageSpool;
}

export interface DeliverResult {
  code: number;
  enhanced?: string;
  text: string;
  via: string;
}

/** Errors that mean "nobody listens there": try the next way. */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'ECONNRESET']);
/** How long deliver waits for the store's lock (another delivery, a server starting) before 75. */
const LOCK_WAIT_MS = 60_000;
const REPLY_TIMEOUT_MS = 5 * 60_000;

export function defaultTargets(settings: ServeSettings): LmtpTarget[] {
  const targets: LmtpTarget[] = [{ path: deliverSocketPath(settings.data) }];
  if (settings.lmtpSocket) targets.push({ path: settings.lmtpSocket });
  const port = listenPort(settings.lmtpPort, false);
  if (port) targets.push({ host: settings.lmtpHost === '0.0.0.0' || settings.lmtpHost === '::' ? '127.0.0.1' : settings.lmtpHost, port });
  return targets;
}

function describe(target: LmtpTarget): string {
  return 'path' in target ? target.path : `${target.host}:${target.port}`;
}

/**
 * Delivers through the first target that answers; with `explicit` targets only through those.
 * Throws (an Error with a message for stderr) when the message can be delivered nowhere now.
 */
export async function deliverMessage(
  settings: ServeSettings,
  request: DeliverRequest,
  options: { explicit?: LmtpTarget[]; logger?: Logger },
): Promise<DeliverResult> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const targets = options.explicit ?? defaultTargets(settings);
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    for (const target of targets) {
      const client = await LmtpClient.connect(target, { timeoutMs: REPLY_TIMEOUT_MS }).catch((err: unknown) => {
        if (err instanceof LmtpClientError && NOT_LISTENING.has(err.code ?? '')) return null;
        throw err;
      });
      if (client) return viaLmtp(client, request, describe(target));
    }
    if (options.explicit) throw new Error(`no LMTP server answers at ${targets.map(describe).join(', ')}`);
    if (settings.store !== 'sqlite') throw new Error(`no server is running on ${settings.data} (and a ${settings.store} store cannot be opened from here)`);
    try {
      return await direct(settings, request, options.logger);
    } catch (err) {
      if (!isStoreError(err) || err.kind !== 'inuse' || Date.now() + wait > deadline) throw err;
    }
    // Someone holds the store: another delivery (it finishes soon) or a server starting up (then
    // its socket answers on the next round).
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

async function viaLmtp(client: LmtpClient, request: DeliverRequest, where: string): Promise<DeliverResult> {
  try {
    const params: Record<string, string> = { [RCPT_USER_PARAM]: xtext(request.user) };
    if (request.mailbox !== undefined) params[RCPT_MAILBOX_PARAM] = xtext(request.mailbox);
    const result = await client.send(request.from, [{ address: request.address, params }], request.spool.content(Buffer.alloc(0)));
    const decisive = result.mail.code >= 300 ? result.mail : result.rcpt[0]!.code >= 300 ? result.rcpt[0]! : (result.delivery[0] ?? result.data);
    return { code: decisive.code, enhanced: decisive.enhanced, text: decisive.text, via: `LMTP ${where}` };
  } finally {
    await client.quit();
  }
}

async function direct(settings: ServeSettings, request: DeliverRequest, logger: Logger | undefined): Promise<DeliverResult> {
  const { SqliteStore } = await import('../../store/sqlite/index.js');
  const { quotaDefaults } = await import('../quota-defaults.js');
  // The same default limits as the server (quota-defaults.ts): a delivery without it obeys them too.
  const store = await SqliteStore.open({ directory: settings.data, logger, quotaDefaults: quotaDefaults(UserFile.inDataDir(settings.data), settings.quota) });
  const via = `the store in ${join(settings.data)}`;
  try {
    const problem = request.from === '' ? null : addressProblem(request.from);
    if (problem) return { ...REPLIES.badSender(problem), via };
    const pipeline = new DeliveryPipeline({
      store,
      auth: new UserFileAuthenticator(UserFile.inDataDir(settings.data)),
      recipientDelimiter: settings.recipientDelimiter,
      recipientUserName: settings.recipientUserName,
      deliveredTo: settings.deliveredTo,
      detailMailbox: settings.detailMailbox,
      logger,
    });
    let recipient;
    try {
      recipient = await pipeline.resolve(request.address, { user: request.user, mailbox: request.mailbox });
    } catch (err) {
      if (isStoreError(err) && err.kind === 'inuse') throw err;
      return { ...failureReply(deliveryFailure(err)), via };
    }
    const [outcome] = await pipeline.deliver(request.from, [recipient], request.spool);
    const reply = outcome!.ok ? REPLIES.delivered(request.address) : failureReply(outcome!.failure);
    return { ...reply, via };
  } finally {
    await store.close();
  }
}
