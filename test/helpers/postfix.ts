/**
 * A Postfix instance of the test's own: Debian's postfix (scripts/install-test-deps.sh), run from a
 * temporary config_directory/queue_directory with `postfix -c DIR start`, smtpd on a free loopback
 * port, no local delivery (`mydestination` empty) and one virtual domain whose mail goes over LMTP
 * to Postroom. The system instance and /etc/postfix are never touched. Postfix insists on starting
 * as root (its daemons then run as the `postfix` user).
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostfixOptions {
  /** The virtual mailbox domain delivered over LMTP. */
  domain: string;
  /** Postfix transport, e.g. "lmtp:unix:/path/to/socket" or "lmtp:inet:127.0.0.1:2424". */
  transport: string;
  /** Largest message Postfix accepts (default 50 MB; Postfix's own default is 10 MB). */
  messageSizeLimit?: number;
  /** smtpd's loopback port, when the caller needs it before Postfix starts (default: a free one). */
  smtpPort?: number;
}

export interface RunningPostfix {
  smtpPort: number;
  dir: string;
  /** Postfix's log (maillog_file). */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function postfixIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postfix:'));
  if (!line) throw new Error('there is no "postfix" user: is the postfix package installed (scripts/install-test-deps.sh)?');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostfix(options: PostfixOptions): Promise<RunningPostfix> {
  if (!existsSync('/usr/sbin/postfix')) throw new Error('postfix is not installed: run scripts/install-test-deps.sh as root');
  if (userInfo().uid !== 0) throw new Error('Postfix can only be started as root (CI and the development machines run the tests as root)');
  const ids = postfixIds();
  const dir = mkdtempSync(join(tmpdir(), 'postroom-postfix-'));
  chmodSync(dir, 0o755); // the daemons run as "postfix" and must reach the queue
  const conf = join(dir, 'conf');
  const queue = join(dir, 'queue');
  const data = join(dir, 'data');
  for (const d of [conf, queue, data]) mkdirSync(d);
  chownSync(data, ids.uid, ids.gid);
  const smtpPort = options.smtpPort ?? (await freePort());
  const main = {
    compatibility_level: '3.6',
    queue_directory: queue,
    data_directory: data,
    command_directory: '/usr/sbin',
    daemon_directory: '/usr/lib/postfix/sbin',
    meta_directory: '/etc/postfix',
    shlib_directory: '/usr/lib/postfix',
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    syslog_name: `postfix-test-${smtpPort}`,
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    myhostname: 'mx.postroom.test',
    mydestination: '',
    mynetworks: '127.0.0.0/8',
    relay_domains: '',
    virtual_mailbox_domains: options.domain,
    virtual_transport: options.transport,
    // No address rewriting of the test's messages, no DNS: what swaks sends is what Postroom gets.
    local_header_rewrite_clients: '',
    smtp_dns_support_level: 'disabled',
    lmtp_dns_support_level: 'disabled',
    smtputf8_enable: 'yes',
    message_size_limit: String(options.messageSizeLimit ?? 50 * 1024 * 1024),
    biff: 'no',
    import_environment: 'MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C',
  };
  writeFileSync(
    join(conf, 'main.cf'),
    Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  // chroot "n" everywhere: the LMTP socket and the queue are ordinary paths.
  writeFileSync(
    join(conf, 'master.cf'),
    `127.0.0.1:${smtpPort} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`,
  );
  const log = (): string => (existsSync(main.maillog_file) ? readFileSync(main.maillog_file, 'utf8') : '');
  try {
    await run('/usr/sbin/postfix', ['-c', conf, 'start'], { timeout: 60_000 });
  } catch (err) {
    throw new Error(`postfix did not start: ${(err as Error).message}\n${log().slice(-2000)}`);
  }
  await waitForPort(smtpPort, 30_000);
  let stopped = false;
  return {
    smtpPort,
    dir,
    log,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run('/usr/sbin/postfix', ['-c', conf, 'stop'], { timeout: 60_000 }).catch(() => undefined);
      // `postfix stop` returns before master has exited; its pid file says whom to wait for.
      const pidFile = join(queue, 'pid', 'master.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
      for (let i = 0; i < 100 && Number.isInteger(pid) && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (Number.isInteger(pid) && alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
