"""Python imaplib against OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and PREVIEW (RFC 8970).

imaplib has no commands for them, so they go through imaplib's generic paths (status, fetch,
search, create), each answer checked here. Prints a JSON summary as its last line.
Usage: objectid_scenario.py HOST PORT
"""
import imaplib
import json
import re
import sys

host, port = sys.argv[1], int(sys.argv[2])
out = {}
m = imaplib.IMAP4(host, port)
m.login('alice', 'secret')
caps = m.capabilities
for cap in ('OBJECTID', 'SAVEDATE', 'PREVIEW'):
    assert cap in caps, (cap, caps)

typ, data = m.create('py-objectid')
assert typ == 'OK', data
created = re.search(rb'MAILBOXID \((F[0-9a-f]{24})\)', m.untagged_responses.get('MAILBOXID', [b''])[0] if 'MAILBOXID' in m.untagged_responses else b'')
# imaplib keeps the tagged response code of the last command in untagged_responses by name.
typ, data = m.status('py-objectid', '(MAILBOXID)')
assert typ == 'OK', data
status_id = re.search(rb'MAILBOXID \((F[0-9a-f]{24})\)', data[0]).group(1)
if created:
    assert created.group(1) == status_id, (created.group(1), status_id)
typ, data = m.rename('py-objectid', 'py-renamed')
assert typ == 'OK', data
typ, data = m.status('py-renamed', '(MAILBOXID)')
assert re.search(rb'MAILBOXID \((F[0-9a-f]{24})\)', data[0]).group(1) == status_id, data
out['mailboxid'] = status_id.decode()

body = 'Subject: preview\r\nMessage-ID: <py-root@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nK\u00f6ln   calling,\r\n\r\nover.\r\n'.encode('utf-8')
typ, data = m.append('py-renamed', None, '"01-Jan-2019 10:00:00 +0000"', body)
assert typ == 'OK', data
typ, data = m.select('py-renamed')
assert typ == 'OK', data
assert 'MAILBOXID' in m.untagged_responses, m.untagged_responses.keys()

typ, data = m.fetch('1', '(EMAILID THREADID SAVEDATE INTERNALDATE PREVIEW)')
assert typ == 'OK', data
# The preview holds 8-bit text and this client never enabled UTF8=ACCEPT: it comes as a literal.
head, literal = data[0]
assert re.search(rb'EMAILID \(M[0-9a-f]{24}\) THREADID \(T[0-9a-f]{24}\) SAVEDATE "[^"]+" INTERNALDATE " 1-Jan-2019 10:00:00 \+0000" PREVIEW \{\d+\}$', head), head
assert literal.decode('utf-8') == 'K\u00f6ln calling, over.', literal
emailid = re.search(rb'EMAILID \((M[0-9a-f]{24})\)', head).group(1).decode()
threadid = re.search(rb'THREADID \((T[0-9a-f]{24})\)', head).group(1).decode()

typ, data = m.search(None, 'EMAILID', emailid)
assert data == [b'1'], data
typ, data = m.search(None, 'THREADID', threadid)
assert data == [b'1'], data
typ, data = m.search(None, 'SAVEDSINCE', '1-Jan-2020')
assert data == [b'1'], data
typ, data = m.search(None, 'SINCE', '1-Jan-2020')
assert data == [b''], data
typ, data = m.fetch('1', '(PREVIEW (LAZY))')
assert typ == 'OK', data
out['emailid'] = emailid
out['threadid'] = threadid
m.logout()
print(json.dumps(out))
