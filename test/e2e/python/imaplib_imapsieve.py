"""RFC 6785 IMAP Sieve with Python imaplib: the IMAPSIEVE= capability, the script set on INBOX with
SETMETADATA (raw command: imaplib has no METADATA of its own), then an APPEND and a STORE that
trigger it. Prints what it saw as JSON."""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
out = {}
m = imaplib.IMAP4(host, port)
out['before_login'] = [c for c in m.capabilities if c.startswith('IMAPSIEVE')]
m.login('bob', 'hunter2')
typ, data = m.capability()
out['after_login'] = [c for c in data[0].decode().split() if c.startswith('IMAPSIEVE')]
imaplib.Commands['SETMETADATA'] = ('AUTH', 'SELECTED')
typ, data = m._simple_command('SETMETADATA', 'INBOX', '(/shared/imapsieve/script "flagwatch")')
out['set'] = typ
typ, data = m.append('INBOX', None, None, b'From: carol@example.org\r\nSubject: from imaplib\r\n\r\nhello\r\n')
out['append'] = typ
m.select('INBOX')
typ, data = m.uid('SEARCH', None, 'SUBJECT', '"from imaplib"')
uid = data[0].split()[-1].decode()
typ, data = m.uid('FETCH', uid, '(FLAGS)')
out['after_append'] = data[0].decode()
typ, data = m.uid('STORE', uid, '+FLAGS', '(\\Flagged)')
out['store'] = typ
m.noop()
typ, data = m.uid('FETCH', uid, '(FLAGS)')
out['after_store'] = data[0].decode()
m.logout()
print(json.dumps(out))
