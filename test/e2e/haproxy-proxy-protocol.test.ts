/**
 * Two `postroom serve --store postgres` nodes on one database behind a real HAProxy (issue 16):
 * HAProxy speaks PROXY protocol v2 to node 1 (IMAP, IMAPS, POP3) and v1 to node 2, with health
 * checks that send a header too (v2 LOCAL). Clients connect to HAProxy from their own loopback
 * addresses (127.0.0.5 …); the nodes must see those, not HAProxy's 127.0.0.1, in `who`. An IDLE
 * session on node 2 hears an APPEND made through node 1.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WireClient } from '../../bench/load/wire-client.js';
import { ControlClient } from '../../src/control/client.js';
import type { SessionInfo } from '../../src/cli/control/sessions.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { nodeDataDir, startServeNode, type ServeNode } from '../helpers/serve-node.js';
import { freePort, haproxyUnavailable, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js';

async function who(node: ServeNode): Promise<SessionInfo[]> {
  const control = await ControlClient.connect(String(node.listening['controlSocket'] ?? join(node.data, 'control.sock')));
  try {
    return (await control.request<{ sessions: SessionInfo[] }>('who')).sessions;
  } finally {
    control.close();
  }
}

async function login(port: number, from: string, options: { tls?: boolean } = {}): Promise<WireClient> {
  const { client, greeting } = await WireClient.connect('127.0.0.1', port, 30_000, { localAddress: from, ...options });
  assert.match(greeting.text, /^\* OK/);
  const ok = await client.command('LOGIN alice pw-alice');
  assert.equal(ok.status, 'OK', ok.tagged);
  return client;
}

describe('two nodes behind HAProxy with the PROXY protocol', { timeout: 180_000 }, () => {
  const nodes: ServeNode[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const clients: WireClient[] = [];
  let haproxy: RunningHaproxy;
  const port = { imap1: 0, imaps1: 0, pop31: 0, imap2: 0 };

  before(async () => {
    // Not a skip: install-test-deps installs haproxy, and a missing one is a failed setup.
    const missing = haproxyUnavailable();
    if (missing) throw new Error(missing);
    const url = await testDatabaseUrl();
    const dirs = await Promise.all([nodeDataDir(), nodeDataDir()]);
    cleanups.push(...dirs.map((d) => d.remove));
    // HAProxy connects from 127.0.0.1: that is the trusted proxy, and nothing else is.
    const args = ['--store', 'postgres', '--database-url', url, '--trusted-proxy', '127.0.0.1/32', '--imaps-port', 'auto'];
    nodes.push(...(await Promise.all(dirs.map((d) => startServeNode(args, d.dir)))));
    for (const key of Object.keys(port) as Array<keyof typeof port>) port[key] = await freePort();
    const [n1, n2] = nodes as [ServeNode, ServeNode];
    const config = `
global
    maxconn 200
    log stderr format raw local0 info
defaults
    mode tcp
    # Generous: on a busy test machine a check may wait for a core; a timeout is not a refusal.
    timeout check 10s
    log global
    option log-health-checks
    timeout connect 5s
    timeout client 31m
    timeout server 31m
frontend imap1
    bind 127.0.0.1:${port.imap1}
    default_backend imap_node1
backend imap_node1
    option tcp-check
    tcp-check expect string "* OK"
    server node1 127.0.0.1:${n1.imapPort} send-proxy-v2 check-send-proxy check inter 300ms
frontend imaps1
    bind 127.0.0.1:${port.imaps1}
    default_backend imaps_node1
backend imaps_node1
    option tcp-check
    tcp-check expect string "* OK"
    server node1 127.0.0.1:${Number(n1.listening['imapsPort'])} send-proxy-v2 check check-send-proxy check-ssl verify none inter 300ms
frontend pop31
    bind 127.0.0.1:${port.pop31}
    default_backend pop3_node1
backend pop3_node1
    server node1 127.0.0.1:${n1.pop3Port} send-proxy-v2
frontend imap2
    bind 127.0.0.1:${port.imap2}
    default_backend imap_node2
backend imap_node2
    option tcp-check
    tcp-check expect string "* OK"
    server node2 127.0.0.1:${n2.imapPort} send-proxy check-send-proxy check inter 300ms
`;
    haproxy = await startHaproxy(config, Object.values(port));
  });

  after(async () => {
    for (const c of clients) c.close();
    await haproxy?.stop();
    for (const n of nodes) assert.equal(await n.stop(), 0, n.stderr());
    for (const c of cleanups) await c();
  });

  it('each node sees the client address HAProxy passed (v2 to node 1, v1 to node 2, IMAPS and POP3 too)', async () => {
    const a = await login(port.imap1, '127.0.0.5');
    const b = await login(port.imap2, '127.0.0.6');
    const s = await login(port.imaps1, '127.0.0.7', { tls: true });
    clients.push(a, b, s);
    const pop3 = await (await import('node:net')).connect({ host: '127.0.0.1', port: port.pop31, localAddress: '127.0.0.8' });
    let pop3Text = '';
    pop3.on('data', (d: Buffer) => (pop3Text += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!pop3Text.startsWith('+OK') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(pop3Text, /^\+OK/);

    const one = await who(nodes[0]!);
    const two = await who(nodes[1]!);
    // Logged-in sessions only: a health check in progress is a session too (not logged in, with
    // HAProxy's own address, as a v2 LOCAL header says).
    const addresses = (list: SessionInfo[], protocol: string): string[] =>
      list.filter((x) => x.protocol === protocol && x.user !== undefined).map((x) => x.remoteAddress).sort();
    assert.deepEqual(addresses(one, 'imap'), ['127.0.0.5', '127.0.0.7'], JSON.stringify(one));
    assert.equal(one.find((x) => x.remoteAddress === '127.0.0.7')?.secure, true);
    assert.ok(one.some((x) => x.protocol === 'pop3' && x.remoteAddress === '127.0.0.8'), JSON.stringify(one));
    assert.deepEqual(addresses(two, 'imap'), ['127.0.0.6'], JSON.stringify(two));
    // HAProxy's own address shows only on not-logged-in sessions (its health checks).
    assert.ok(![...one, ...two].some((x) => x.remoteAddress === '127.0.0.1' && x.user !== undefined));
    pop3.destroy();
  });

  it('HAProxy\'s health checks, which send a header too (v2 LOCAL), pass on every backend', async () => {
    // Every checked backend reports a passed check (logged as it comes up: option log-health-checks).
    const backends = ['imap_node1/node1', 'imaps_node1/node1', 'imap_node2/node2'];
    const deadline = Date.now() + 15_000;
    while (!backends.every((b) => haproxy.output().includes(`Health check for server ${b} succeeded`)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const b of backends) assert.ok(haproxy.output().includes(`Health check for server ${b} succeeded`), `${b}: ${haproxy.output()}`);
    // A few more check intervals (300 ms): a failing one is logged too.
    await new Promise((r) => setTimeout(r, 1000));
    assert.doesNotMatch(haproxy.output(), /Health check for server \S+ failed/, haproxy.output());
    assert.doesNotMatch(haproxy.output(), /is DOWN/, haproxy.output());
  });

  it('an APPEND through node 1 is heard by an IDLE session on node 2', async () => {
    const watcher = await login(port.imap2, '127.0.0.9');
    clients.push(watcher);
    const selected = await watcher.command('SELECT INBOX');
    assert.equal(selected.status, 'OK');
    const before = Number(/\* (\d+) EXISTS/.exec(selected.untagged.map((u) => u.text).join('\n'))?.[1] ?? 0);
    watcher.write('idle IDLE\r\n');
    assert.match((await watcher.next()).text, /^\+/);
    const heard = new Promise<string>((resolve) => {
      watcher.onUntagged = (r) => {
        if (/EXISTS/.test(r.text)) resolve(r.text);
      };
    });
    const writer = await login(port.imap1, '127.0.0.10');
    clients.push(writer);
    const appended = await writer.append('INBOX', '', Buffer.from('From: a@example.com\r\nSubject: through haproxy\r\n\r\nhello\r\n'));
    assert.equal(appended.status, 'OK', appended.tagged);
    const text = await Promise.race([heard, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no EXISTS within 10 s')), 10_000))]);
    assert.equal(text, `* ${before + 1} EXISTS`);
    watcher.write('DONE\r\n');
  });
});
