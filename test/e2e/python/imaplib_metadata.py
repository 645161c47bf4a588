"""RFC 5464 METADATA with Python imaplib (no METADATA support of its own: raw commands through
_simple_command, values read from the untagged METADATA data). Prints what it saw as JSON."""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
out = {}
m = imaplib.IMAP4(host, port)
m.login('alice', 'secret')
out['capabilities'] = [c for c in m.capabilities if 'METADATA' in c]
imaplib.Commands['GETMETADATA'] = ('AUTH', 'SELECTED')
imaplib.Commands['SETMETADATA'] = ('AUTH', 'SELECTED')

typ, data = m._simple_command('SETMETADATA', 'INBOX', '(/private/comment "from imaplib" /shared/comment "hello")')
out['set'] = typ
# A multi-line value as a (LITERAL+) literal inside the list.
typ, data = m._simple_command('SETMETADATA', 'INBOX', '(/shared/vendor/python/notes {18+}\r\nline one\r\nline two)')
out['set_literal'] = typ
typ, data = m._simple_command('GETMETADATA', 'INBOX', '(DEPTH infinity)', '(/private /shared)')
typ, data = m._untagged_response(typ, data, 'METADATA')
out['get'] = typ
out['data'] = [d.decode('latin1') if isinstance(d, bytes) else [x.decode('latin1') for x in d] for d in data]
typ, data = m._simple_command('GETMETADATA', '""', '/shared/admin')
typ, data = m._untagged_response(typ, data, 'METADATA')
out['server'] = [d.decode('latin1') if isinstance(d, bytes) else [x.decode('latin1') for x in d] for d in data]
try:
    m._simple_command('SETMETADATA', 'INBOX', '(/private//bad "x")')
    out['bad'] = 'accepted'
except imaplib.IMAP4.error as e:
    out['bad'] = str(e)
m.logout()
print(json.dumps(out))
