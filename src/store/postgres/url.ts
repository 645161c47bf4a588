/** "postgres://user:secret@host/db" without the password, for messages and logs (no pg import: the CLI uses it). */
export function redactUrl(url: string | undefined): string {
  if (!url) return '(from the PG* environment variables)';
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a database URL that does not parse)';
  }
}
