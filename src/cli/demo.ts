/** `serve --demo`: a ready-to-use account on an empty server, and how to reach it. */
import { randomBytes } from 'node:crypto';
import type { UserFile } from '../auth/user-file.js';
import type { ListeningPorts } from './components.js';

export const DEMO_USER = 'demo';

/** Creates user "demo" with a random password when the users file has no users; returns the password. */
export async function ensureDemoUser(users: UserFile): Promise<string | null> {
  if ((await users.list()).length > 0) return null;
  // base64url: no characters that need quoting in IMAP LOGIN or a shell.
  const password = randomBytes(12).toString('base64url');
  await users.add(DEMO_USER, password);
  return password;
}

/** The banner printed once the ports are known. On a terminal a box, otherwise a JSON line. */
export function demoBanner(password: string, ports: ListeningPorts, dataDir: string, human: boolean): string {
  if (!human) return `${JSON.stringify({ msg: 'demo user created', user: DEMO_USER, password })}\n`;
  const at = (port: number | null | undefined): string | null => (port ? `${ports.host}:${port}` : null);
  const rows: string[] = [
    `Demo account created:  user ${DEMO_USER}   password ${password}`,
    '',
  ];
  const services: [string, string | null, string][] = [
    ['IMAP ', at(ports.imapPort), 'STARTTLS'],
    ['IMAPS', at(ports.imapsPort), 'implicit TLS'],
    ['POP3 ', at(ports.pop3Port), 'STLS'],
    ['POP3S', at(ports.pop3sPort), 'implicit TLS'],
  ];
  for (const [name, address, how] of services) if (address) rows.push(`${name}  ${address}  (${how})`);
  rows.push('');
  if (ports.imapsPort) {
    rows.push('Try it:', `  openssl s_client -quiet -connect ${ports.host}:${ports.imapsPort} -servername localhost`, `  a LOGIN ${DEMO_USER} ${password}`, '');
  }
  rows.push(
    'The certificate is self-signed: tell your mail client to accept it.',
    'This password is shown only once. Change it with:',
    `  postroom user passwd ${DEMO_USER} --data ${dataDir}`,
  );
  const width = Math.max(...rows.map((r) => r.length));
  const line = '─'.repeat(width + 2);
  return `\n┌${line}┐\n${rows.map((r) => `│ ${r.padEnd(width)} │`).join('\n')}\n└${line}┘\n\n`;
}
