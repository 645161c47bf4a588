/** `postroom serve`: runs IMAP, POP3 and mail delivery (LMTP) until SIGTERM/SIGINT. */
import { Option, type Command } from 'commander';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS, DELIVERED_TO_MODES, LOG_LEVELS, RECIPIENT_USER_NAMES, STORE_KINDS, TLS_RECORDS, WORKER_ACCEPT_MODES } from '../../config/settings.js';
import { createLogger } from '../logger.js';
import { startServers } from '../start.js';
import { demoBanner } from '../demo.js';
import { parseWorkers, serveCluster } from '../cluster.js';
import { listenToLauncher, missingNodeFlags, nodeFlagsFor, relaunch, RELAUNCHED_ENV } from '../node-flags.js';

/** How long a clean shutdown may take before we give up on stragglers. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * A relaunched server (node-flags.ts) stopped by its launcher's passed-on signal may get the same
 * signal from the system too (a control group or process group signalled): within this long it is
 * the same request, not the second signal that exits at once.
 */
const SAME_SIGNAL_MS = 2_000;

const PORT_HELP = 'a port number, "auto" (any free port) or "off"/0 (disabled)';

export function register(program: Command): void {
  const d = DEFAULT_SETTINGS;
  program
    .command('serve')
    .description('run the IMAP and POP3 servers and accept mail over LMTP')
    .option('--config <file>', 'JSON config file with the same settings in camelCase (flags override it)')
    .option('--data <dir>', `data folder: users file, TLS files, mail (default: ${d.data})`)
    .option('--host <address>', `address to listen on (default: ${d.host})`)
    .option('--imap-port <port>', `IMAP with STARTTLS: ${PORT_HELP} (default: ${d.imapPort})`)
    .option('--imaps-port <port>', `IMAP over implicit TLS (default: ${d.imapsPort})`)
    .option('--pop3-port <port>', `POP3 with STLS (default: ${d.pop3Port})`)
    .option('--pop3s-port <port>', `POP3 over implicit TLS (default: ${d.pop3sPort})`)
    .option('--lmtp-port <port>', `mail delivery over LMTP/TCP: ${PORT_HELP} (default: off)`)
    .option('--lmtp-host <address>', `address the LMTP port listens on (default: ${d.lmtpHost})`)
    .option('--lmtp-allow-from <list>', 'comma-separated addresses or CIDR ranges allowed on the LMTP port (default: loopback)')
    .option('--lmtp-socket <path>', 'mail delivery over LMTP on this UNIX socket, mode 0660 (default: none)')
    .option('--managesieve-port <port>', `ManageSieve (RFC 5804) for Sieve scripts: ${PORT_HELP} (default: off; 4190 is the standard port)`)
    .option('--sieve-before <file>', 'a Sieve script run before every user\'s own (default: none)')
    .option('--sieve-after <file>', 'a Sieve script run after every user\'s own (default: none)')
    .option('--imap-sieve', 'IMAP Sieve (RFC 6785) when a ManageSieve server is known: --managesieve-port or --imap-sieve-url (default)')
    .option('--no-imap-sieve', 'no IMAP Sieve, whatever ManageSieve does')
    .option('--imap-sieve-url <url>', 'the ManageSieve server IMAPSIEVE= names, sieve://host[:port] (default: this serve\'s ManageSieve)')
    .option('--imap-sieve-expunge', 'expunge what IMAP Sieve scripts did not keep, instead of marking it \\Deleted')
    .option('--sqlite-direct-body-writes', 'write new SQLite body files (over 256 KiB) with O_DIRECT, past the page cache (default: through it)')
    .option('--sieve-relay <url>', 'where Sieve redirect and vacation send mail: smtp://host:port or sendmail:/usr/sbin/sendmail (default: none)')
    .option('--recipient-delimiter <char>', `separates user and detail in a recipient address, "" for none (default: ${d.recipientDelimiter})`)
    .addOption(new Option('--recipient-user-name <rule>', `which part of a recipient address is the user name (default: ${d.recipientUserName})`).choices(RECIPIENT_USER_NAMES))
    .addOption(new Option('--delivered-to <when>', `when delivery adds Delivered-To: (default: ${d.deliveredTo})`).choices(DELIVERED_TO_MODES))
    .option('--detail-mailbox', 'deliver user+detail@… into the mailbox "detail" when it exists (default)')
    .option('--no-detail-mailbox', 'always deliver into INBOX, whatever the detail')
    .option('--ephemeral-ports', 'bind every enabled listener to a free port (for tests); see the "listening" line')
    .addOption(new Option('--store <kind>', `mail store (default: ${d.store})`).choices(STORE_KINDS))
    .option('--database-url <url>', 'PostgreSQL database of the postgres store, postgres://user:password@host:port/db (PG* variables fill in the rest)')
    .option('--allow-insecure-auth', 'accept passwords on unencrypted connections (default: only after TLS)')
    .option('--no-allow-insecure-auth', 'require TLS before passwords, overriding the config file')
    .option('--literal-minus', 'IMAP: advertise LITERAL- instead of LITERAL+ (non-synchronising literals up to 4096 octets, RFC 7888)')
    .option('--tls-key <file>', 'TLS private key, PEM (default: a self-signed certificate in DATA/tls/)')
    .option('--tls-cert <file>', 'TLS certificate chain, PEM (give with --tls-key)')
    .addOption(new Option('--tls-records <who>', `IMAP over TLS 1.3: who protects records after the handshake, postroom (no OpenSSL state per connection) or openssl (default: ${d.tlsRecords})`).choices(TLS_RECORDS))
    .option('--hostname <name>', 'server name in greetings and SASL (default: the machine host name)')
    .option('--user <name>', 'drop privileges to this user once every port is bound')
    .option('--group <name>', 'drop privileges to this group once every port is bound')
    .addOption(new Option('--log-level <level>', `log detail (default: ${d.logLevel})`).choices(LOG_LEVELS))
    .option('--demo', 'if there are no users, create user "demo" with a random password and print it')
    .option(
      '--trusted-proxy <address>',
      'a proxy (HAProxy) whose connections start with a PROXY protocol v1/v2 header: an address or CIDR range; repeat or separate with commas (default: none)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((v) => v.trim())],
    )
    .option('--workers <n>', 'protocol worker processes sharing the listeners, or "auto" (default 1); on SQLite their store calls go to the primary, on PostgreSQL each opens the store itself')
    .addOption(new Option('--worker-accept <who>', `with --workers: who hands out new connections, "kernel" (each worker accepts; the kernel picks) or "primary" (the primary accepts and passes them to the workers in turn) (default: ${d.workerAccept})`).choices(WORKER_ACCEPT_MODES))
    .option('--sqlite-workers <mode>', 'with --workers on SQLite: "forward" every store call to the primary (default), or "own-store": each worker opens the data folder itself, SQLite\'s locks between them (docs/sqlite.md)')
    .option('--metrics-port <port>', `/metrics, /healthz and /readyz over HTTP: ${PORT_HELP} (default: off)`)
    .option('--metrics-host <address>', `address of the metrics listener (default: ${d.metricsHost})`)
    .option('--control-socket <path>', 'control socket of the admin commands (default: DATA/control.sock)')
    .option('--admin-contact <uri>', 'METADATA server entry /shared/admin, e.g. mailto:postmaster@example.com (default: none)')
    .option('--admins <list>', 'comma-separated users with administrative rights over IMAP: SETQUOTA (default: none)')
    .option('--autoconfig-port <port>', `Thunderbird autoconfig over HTTP: ${PORT_HELP} (default: off)`)
    .option('--autoconfig-host <address>', 'address of the autoconfig listener (default: --host)')
    .option('--v8-semi-space-mb <mb>', "each of V8's two young-generation semi-spaces, MiB, 1–256; fewer, longer scavenges (default: 0, V8's own sizing up to 16); starts node again with the flag")
    .option('--warm-up', 'before the listeners open, run a few hundred IMAP commands against a throwaway store so the first clients meet optimized code (default)')
    .option('--no-warm-up', 'open the listeners without the warm-up (faster start; the first few hundred commands run slower)')
    .option('--v8-single-threaded-gc', 'V8 collects garbage on the main thread only, no helper threads (default: off); starts node again with the flag')
    .option('--v8-minor-gc-task', "V8 runs young-generation GCs as tasks between commands, node's default (default: off: inside the allocation that fills the young generation)")
    .addHelpText(
      'after',
      '\nOn startup one JSON line {"msg":"listening","host":…,"imapPort":…,"imapsPort":…,"pop3Port":…,"pop3sPort":…,\n' +
        '"lmtpPort":…,"lmtpSocket":…,"deliverSocket":…,"managesievePort":…} is written to stdout with the bound ports (null when disabled).\n' +
        'SIGTERM or SIGINT stops cleanly (exit 0). Mail delivery (LMTP, postroom deliver): docs/delivery.md.\n' +
        'Every option is described in docs/configuration.md.',
    )
    .action(async (options: Record<string, unknown>) => {
      // From the flags or the config file.
      const settings = await resolveSettings(options);
      // V8 heap settings are fixed at node's start: run again with them (never twice).
      const missing = process.env[RELAUNCHED_ENV] === '1' ? [] : missingNodeFlags(nodeFlagsFor(settings));
      if (missing.length > 0) return relaunch(missing);
      const workers = parseWorkers(settings.workers);
      if (workers > 1) return serveCluster(options, workers);
      await serve(options);
    });
}

async function serve(options: Record<string, unknown>): Promise<void> {
  const settings = await resolveSettings(options);
  const human = process.stdout.isTTY === true;
  const logger = createLogger(settings.logLevel, human);
  const running = await startServers(settings, logger);

  let stopping = false;
  // Stopped by the launcher's passed-on signal at this time (node-flags.ts), and not yet by a signal of the system's.
  let passedOnAt: number | null = null;
  const stop = (signal: NodeJS.Signals, passedOn = false): void => {
    if (stopping) {
      // The launcher passes on what the system may also have sent here: one request, not two.
      if (passedOn) return;
      if (passedOnAt !== null && Date.now() - passedOnAt < SAME_SIGNAL_MS) {
        passedOnAt = null;
        logger.info({ signal }, 'already shutting down: the launcher passed this signal on');
        return;
      }
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    if (passedOn) passedOnAt = Date.now();
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Certificate renewal without a restart: new handshakes get the new files, sessions stay up.
  const reload = (): void => {
    logger.info({ signal: 'SIGHUP' }, 'reloading');
    running.reload().catch((err: unknown) => logger.error({ err }, 'reload failed'));
  };
  process.on('SIGHUP', reload);
  listenToLauncher({ stop, reload });

  // Announced only once the signal handlers are in place: a supervisor (or a test) may send
  // SIGTERM as soon as it reads this line.
  // The machine-readable contract (tests, supervisors): always written, whatever the log level.
  process.stdout.write(
    `${JSON.stringify({
      msg: 'listening',
      ...running.ports,
      metricsPort: running.metricsPort,
      autoconfigPort: running.autoconfigPort,
      controlSocket: running.controlSocket,
      pid: process.pid,
    })}\n`,
  );
  if (running.demoPassword) process.stdout.write(demoBanner(running.demoPassword, running.ports, settings.data, human));
}
