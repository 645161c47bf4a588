/**
 * More handles on one listening socket, so a busy event loop accepts more than one connection per
 * turn.
 *
 * Since libuv 1.45 (Node 20 ships 1.46) a listening handle accepts exactly one connection each time
 * the event loop polls it (libuv PR #3696), and relies on level-triggered polling for the next. A
 * server whose loop turns slowly under load — every ready socket's work runs in one turn — thus
 * admits one new client per turn while every open session gets a turn per command; under a full
 * load the accept queue fills and new clients wait there for seconds. Each extra handle is its own
 * file descriptor for the same socket (no SO_REUSEPORT needed, one accept queue), polled on its own,
 * so n handles accept up to n connections per turn.
 *
 * Node 20 has no dup(2), so a short-lived helper process gets the listening handle over IPC and
 * sends it back n times (SCM_RIGHTS: each arrival is a new descriptor). The helper never listens
 * on it. Anything failing here just leaves the server with its one handle.
 */
import { spawn } from 'node:child_process';

const HELPER = `process.on('message', (m, handle) => {
  if (!handle || !m || typeof m.n !== 'number') return;
  let left = m.n;
  const next = () => {
    if (left-- > 0) return process.send({ dup: true }, handle, next);
    handle.close();
    process.disconnect();
  };
  next();
});`;

/** Raw handles (new descriptors) for the socket `server` listens on; fewer (or none) on failure. */
export function duplicateListenHandle(server: { _handle?: unknown }, count: number, timeoutMs = 5_000): Promise<unknown[]> {
  const handle = server._handle;
  if (count <= 0 || !handle || process.platform === 'win32') return Promise.resolve([]);
  return new Promise((resolve) => {
    const got: unknown[] = [];
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env });
    } catch {
      resolve(got);
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill();
      resolve(got);
    };
    const timer = setTimeout(done, timeoutMs);
    child.on('message', (_m, dup) => {
      if (dup) got.push(dup);
      if (got.length === count) done();
    });
    child.once('error', done);
    child.once('exit', done);
    child.send({ n: count }, handle as Parameters<typeof child.send>[1], (err) => err && done());
  });
}
