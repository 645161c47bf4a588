/**
 * `postroom deliver --user NAME [--mailbox M] [--from ADDR]`: the local delivery agent. Reads one
 * message on stdin, delivers it (through the running server when there is one: deliver/route.ts)
 * and exits with a sysexits(3) code, so Postfix `mailbox_command`, fetchmail `mda` and procmail
 * know whether to bounce, retry later or consider it delivered (docs/delivery.md).
 */
import os from 'node:os';
import { CommanderError, type Command } from 'commander';
import { pino } from 'pino';
import { resolveSettings } from '../../config/resolve.js';
import { DEFAULT_SETTINGS, type ServeSettings } from '../../config/settings.js';
import { parsePort } from '../../config/ports.js';
import { resolveLmtpLimits } from '../../lmtp/limits.js';
import type { LmtpTarget } from '../../lmtp/client.js';
import { EX_OK, EX_TEMPFAIL, EX_USAGE, exitCodeForReply } from '../deliver/exit-codes.js';
import { readMessage } from '../deliver/input.js';
import { deliverMessage, type DeliverResult } from '../deliver/route.js';
import { failureReply } from '../../lmtp/replies.js';

type Options = Record<string, unknown>;

/** sysexits EX_CONFIG: Postfix defers (4.3.5) rather than bounces on it. */
const EX_CONFIG = 78;

export function register(program: Command): void {
  program
    .command('deliver')
    .description('deliver one message from stdin to a user (an LDA for Postfix mailbox_command, fetchmail, procmail); exits with sysexits codes')
    .requiredOption('--user <name>', 'the user to deliver to')
    .option('--mailbox <name>', 'deliver into this mailbox when it exists, else INBOX')
    .option('--from <address>', 'envelope sender for Return-Path: (default: from a leading "From " line, else <>)')
    .option('--recipient <address>', 'the address the message was sent to, for Delivered-To: (default: USER@hostname)')
    .option('--data <dir>', `data folder (default: ${DEFAULT_SETTINGS.data})`)
    .option('--config <file>', 'settings from this serve config file (data folder, LMTP socket and port, delivery options)')
    .option('--socket <path>', 'LMTP socket of the running server (default: DATA/deliver.sock, then lmtpSocket and lmtpPort of the config)')
    .option('--lmtp-port <port>', 'LMTP port of the running server on 127.0.0.1')
    .addHelpText(
      'after',
      '\nExit status: 0 delivered, 64 usage, 65 message refused (too big, NUL bytes), 67 no such user,\n' +
        '75 temporary failure (try again later), 77 refused by policy, 78 bad configuration.\n' +
        'Without a running server the store in the data folder is opened directly. docs/delivery.md has examples.',
    )
    // Usage errors exit 64 (EX_USAGE), not commander's 1, so an MTA does not read them as anything else.
    .exitOverride((err) => {
      if (err.exitCode === 0) throw err;
      throw new CommanderError(EX_USAGE, err.code, err.message);
    })
    .action(async (options: Options) => {
      process.exit(await run(options));
    });
}

async function run(options: Options): Promise<number> {
  const fail = (code: number, text: string): number => {
    process.stderr.write(`postroom deliver: ${text}\n`);
    return code;
  };
  let settings: ServeSettings;
  try {
    settings = await resolveSettings({ data: options['data'], config: options['config'] });
  } catch (err) {
    return fail(EX_CONFIG, (err as Error).message);
  }
  const explicit = explicitTargets(options);
  if (typeof explicit === 'string') return fail(EX_USAGE, explicit);
  const user = String(options['user']);
  const limits = resolveLmtpLimits(settings.lmtpLimits);
  let input;
  try {
    input = await readMessage(process.stdin, { maxSize: limits.maxMessageSize, memoryMax: limits.spoolMemoryBytes, directory: os.tmpdir() });
  } catch (err) {
    return fail(EX_TEMPFAIL, `cannot read the message: ${(err as Error).message}`);
  }
  try {
    if (input.spool.oversized) return report(failureReply({ kind: 'toobig', message: 'Message too big' }), 'deliver');
    const result = await deliverMessage(
      settings,
      {
        user,
        ...(typeof options['mailbox'] === 'string' ? { mailbox: options['mailbox'] } : {}),
        from: typeof options['from'] === 'string' ? options['from'] : (input.fromLine ?? ''),
        address: typeof options['recipient'] === 'string' ? options['recipient'] : user.includes('@') ? user : `${user}@${settings.hostname ?? os.hostname()}`,
        spool: input.spool,
      },
      {
        ...(explicit.length > 0 ? { explicit } : {}),
        logger: pino({ level: 'error' }, pino.destination({ dest: 2, sync: true })),
      },
    );
    return report(result, result.via);
  } catch (err) {
    return fail(EX_TEMPFAIL, `${(err as Error).message}; try again later`);
  } finally {
    await input.spool.release();
  }
}

function report(result: Pick<DeliverResult, 'code' | 'enhanced' | 'text'>, via: string): number {
  const code = exitCodeForReply(result.code, result.enhanced);
  if (code !== EX_OK) process.stderr.write(`postroom deliver: ${result.code} ${result.enhanced ?? ''} ${result.text} (via ${via})\n`);
  return code;
}

function explicitTargets(options: Options): LmtpTarget[] | string {
  const targets: LmtpTarget[] = [];
  if (typeof options['socket'] === 'string') targets.push({ path: options['socket'] });
  if (options['lmtpPort'] !== undefined) {
    try {
      const port = parsePort(options['lmtpPort'], '--lmtp-port');
      if (typeof port !== 'number') return '--lmtp-port needs a port number';
      targets.push({ host: '127.0.0.1', port });
    } catch (err) {
      return (err as Error).message;
    }
  }
  return targets;
}

