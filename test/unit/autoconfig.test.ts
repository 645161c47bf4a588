/** The Thunderbird autoconfig answer: servers, TLS modes, user name form, the domain of the address asked for. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoconfigXml, startAutoconfig } from '../../src/autoconfig/autoconfig.js';

const options = {
  hostname: 'mail.example.org',
  username: 'localpart' as const,
  services: [
    { protocol: 'imap' as const, port: 143, socketType: 'STARTTLS' as const },
    { protocol: 'imap' as const, port: 993, socketType: 'SSL' as const },
    { protocol: 'pop3' as const, port: 995, socketType: 'SSL' as const },
  ],
};

test('the XML names the servers, implicit TLS first, and the domain of the address', () => {
  const xml = autoconfigXml(options, 'ann@Example.ORG');
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<clientConfig version="1\.1">/);
  assert.match(xml, /<emailProvider id="example\.org">\n    <domain>example\.org<\/domain>/);
  const servers = [...xml.matchAll(/<incomingServer type="(\w+)">\s*<hostname>([^<]+)<\/hostname>\s*<port>(\d+)<\/port>\s*<socketType>(\w+)<\/socketType>/g)].map((m) => m.slice(1).join(' '));
  assert.deepEqual(servers, ['imap mail.example.org 993 SSL', 'pop3 mail.example.org 995 SSL', 'imap mail.example.org 143 STARTTLS']);
  assert.equal([...xml.matchAll(/<username>%EMAILLOCALPART%<\/username>/g)].length, 3);
  assert.match(autoconfigXml({ ...options, username: 'address' }, null), /<username>%EMAILADDRESS%<\/username>/);
  // Anything that is not a domain name is not echoed: the host name stands in.
  assert.match(autoconfigXml(options, 'x@<script>'), /<domain>mail\.example\.org<\/domain>/);
});

test('the listener answers both paths and nothing else', async (t) => {
  const l = await startAutoconfig('127.0.0.1', 0, options);
  t.after(() => l.close());
  for (const path of ['/mail/config-v1.1.xml?emailaddress=bob%40example.net', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40example.net']) {
    const res = await fetch(`http://127.0.0.1:${l.port}${path}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/xml/);
    assert.match(await res.text(), /<domain>example\.net<\/domain>/);
  }
  assert.equal((await fetch(`http://127.0.0.1:${l.port}/other`)).status, 404);
});
