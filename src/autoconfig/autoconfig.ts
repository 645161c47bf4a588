/**
 * Thunderbird's autoconfig (https://wiki.mozilla.org/Thunderbird:Autoconfiguration): a client
 * given only an address fetches http://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=…
 * (or DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml) and learns the servers, ports, TLS modes
 * and user name form. `serve --autoconfig-port` answers it; RFC 6186 SRV records (docs/operations.md)
 * cover clients that look those up instead.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AutoconfigService {
  protocol: 'imap' | 'pop3';
  port: number;
  /** SSL: implicit TLS; STARTTLS: the plain port with an upgrade. */
  socketType: 'SSL' | 'STARTTLS';
}

export interface AutoconfigOptions {
  /** The name clients connect to (the certificate's name). */
  hostname: string;
  services: AutoconfigService[];
  /** The user name clients log in with: the whole address, or its local part. */
  username: 'address' | 'localpart';
}

const escape = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A domain name from the client's query, or null when it is not one (never echoed unchecked). */
function domainOf(address: string | null): string | null {
  const domain = address?.split('@')[1]?.toLowerCase();
  return domain && /^[a-z0-9](?:[a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}$/.test(domain) && domain.length <= 253 ? domain : null;
}

export function autoconfigXml(options: AutoconfigOptions, emailAddress: string | null): string {
  const domain = domainOf(emailAddress) ?? options.hostname;
  const username = options.username === 'address' ? '%EMAILADDRESS%' : '%EMAILLOCALPART%';
  // Implicit TLS first: clients take the first server of a type they can use.
  const ordered = [...options.services].sort((a, b) => (a.socketType === b.socketType ? 0 : a.socketType === 'SSL' ? -1 : 1));
  const servers = ordered.map(
    (s) => `    <incomingServer type="${s.protocol}">
      <hostname>${escape(options.hostname)}</hostname>
      <port>${s.port}</port>
      <socketType>${s.socketType}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${username}</username>
    </incomingServer>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${escape(domain)}">
    <domain>${escape(domain)}</domain>
    <displayName>${escape(domain)} mail</displayName>
    <displayShortName>${escape(domain)}</displayShortName>
${servers.join('\n')}
  </emailProvider>
</clientConfig>
`;
}

export interface AutoconfigListener {
  port: number;
  close(): Promise<void>;
}

const PATHS = new Set(['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml']);

export function startAutoconfig(host: string, port: number, options: AutoconfigOptions): Promise<AutoconfigListener> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !PATHS.has(url.pathname)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    const body = autoconfigXml(options, url.searchParams.get('emailaddress'));
    res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8', 'cache-control': 'max-age=3600' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
