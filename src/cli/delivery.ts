/**
 * The delivery side of `postroom serve`: the LMTP listeners the settings ask for, plus the private
 * delivery socket DATA/deliver.sock that is always there, so `postroom deliver` can reach the
 * running server (which holds the store's exclusive lock) without any LMTP setting.
 */
import { proxyProtocolOptions } from './proxy-settings.js';
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { DeliveryFilter } from '../delivery/types.js';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { Authenticator } from '../auth/types.js';
import { listenPort } from '../config/ports.js';
import type { ServeSettings } from '../config/settings.js';
import type { LmtpServer, LmtpSocketOption } from '../lmtp/options.js';
import { MAX_SOCKET_PATH_BYTES } from '../net/unix-socket.js';
import type { MailStore } from '../store/types.js';
import type { Metrics } from '../metrics/prometheus.js';

export const DELIVER_SOCKET = 'deliver.sock';
const SPOOL_FOLDER = 'spool';

export function deliverSocketPath(dataDir: string): string {
  return join(dataDir, DELIVER_SOCKET);
}

export interface DeliveryPorts {
  lmtpPort: number | null;
  lmtpSocket: string | null;
  /** The private socket of `postroom deliver`; null when the data folder's path is too long for one. */
  deliverSocket: string | null;
}

export interface RunningDelivery {
  ports: DeliveryPorts;
  close(): Promise<void>;
}

/** LMTP's message size follows IMAP's maxMessageSize unless set itself: what is delivered can be APPENDed back. */
function lmtpLimits(settings: ServeSettings): Record<string, number> {
  const imapMax = settings.imapLimits?.['maxMessageSize'];
  return { ...(imapMax !== undefined ? { maxMessageSize: imapMax } : {}), ...settings.lmtpLimits };
}

/** The Sieve filter of serve: global scripts from files (read and checked at startup), the relay. */
async function sieveFilter(settings: ServeSettings, store: MailStore, logger: Logger): Promise<{ filter: DeliveryFilter; close(): Promise<void> }> {
  const { createSieveFilter } = await import('../delivery/sieve-filter.js');
  const { createMailSender } = await import('../delivery/sender.js');
  const read = async (path: string | undefined): Promise<string | undefined> => (path === undefined ? undefined : readFile(path, 'utf8'));
  const sender = settings.sieveRelay ? createMailSender(settings.sieveRelay) : undefined;
  const filter = createSieveFilter({
    ...(settings.sieveBefore ? { before: await read(settings.sieveBefore) } : {}),
    ...(settings.sieveAfter ? { after: await read(settings.sieveAfter) } : {}),
    limits: settings.sieveLimits ?? {},
    // The built-in stores publish script changes (kind 'sieve'), across processes on PostgreSQL.
    scriptChanges: store,
    ...(sender ? { sender } : {}),
    logger: logger.child({ component: 'sieve' }),
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
    ...(settings.recipientDelimiter ? { subaddressSeparator: settings.recipientDelimiter } : {}),
  });
  return { filter, close: async () => sender?.close() };
}

export async function startDelivery(settings: ServeSettings, store: MailStore, auth: Authenticator, logger: Logger, metrics?: Metrics): Promise<RunningDelivery> {
  const sieve = await sieveFilter(settings, store, logger);
  const spool = join(settings.data, SPOOL_FOLDER);
  // Spool files are unlinked as soon as they are opened; anything here is from a crash mid-open.
  await rm(spool, { recursive: true, force: true });
  await mkdir(spool, { recursive: true, mode: 0o700 });
  const sockets: LmtpSocketOption[] = [];
  let deliverSocket: string | null = deliverSocketPath(settings.data);
  if (Buffer.byteLength(deliverSocket) > MAX_SOCKET_PATH_BYTES) {
    logger.warn({ path: deliverSocket }, 'the data folder path is too long for the delivery socket; postroom deliver needs --socket or an LMTP setting');
    deliverSocket = null;
  } else {
    // 0600: inside the data folder (0700) only the server's own user could reach it anyway.
    sockets.push({ path: deliverSocket, mode: 0o600 });
  }
  if (settings.lmtpSocket) sockets.push({ path: settings.lmtpSocket, mode: 0o660 });
  const port = listenPort(settings.lmtpPort, settings.ephemeralPorts);
  const { createLmtpServer } = await import('../lmtp/server.js');
  const proxy = proxyProtocolOptions(settings);
  const server: LmtpServer = createLmtpServer({
    store,
    auth,
    // The built-in stores publish mailbox tree changes (kind 'mailboxes'), across processes on PostgreSQL.
    mailboxChanges: store,
    port,
    host: settings.lmtpHost,
    allowFrom: settings.lmtpAllowFrom,
    ...(proxy ? { proxyProtocol: proxy } : {}),
    sockets,
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
    limits: lmtpLimits(settings),
    recipientDelimiter: settings.recipientDelimiter,
    recipientUserName: settings.recipientUserName,
    deliveredTo: settings.deliveredTo,
    detailMailbox: settings.detailMailbox,
    filter: sieve.filter,
    spoolDirectory: spool,
    logger: logger.child({ protocol: 'lmtp' }),
    ...(metrics ? { metrics: { protocol: metrics.protocol('lmtp'), delivery: metrics.delivery } } : {}),
  });
  const bound = await server.listen();
  return {
    ports: { lmtpPort: bound.port ?? null, lmtpSocket: settings.lmtpSocket ?? null, deliverSocket },
    close: async () => {
      await server.close();
      await sieve.close();
    },
  };
}
