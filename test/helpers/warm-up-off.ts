/**
 * Flags the serve helpers put before a test's own: no start-up warm-up (src/cli/warm-up.ts). It
 * only makes a server's first few hundred commands faster and costs up to a few seconds of start per server,
 * which hundreds of servers started by the suite would pay for nothing. A test's own `--warm-up`
 * comes later and wins; test/e2e/serve-warm-up.test.ts runs it.
 */
export const WARM_UP_OFF: readonly string[] = ['--no-warm-up'];
