"""URLAUTH (RFC 4467) from Python imaplib: alice APPENDs and GENURLAUTHs for bob, bob URLFETCHes
(a literal in the untagged response) and gets NIL for a wrong key. Raw commands through
imaplib's _simple_command, as imaplib has no URLAUTH methods."""
import imaplib
import re
import sys

host, port = sys.argv[1], int(sys.argv[2])
MESSAGE = (b'Subject: py\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
           b'--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
           b'Si vis pacem, para bellum.\r\n--b--\r\n')

for name in ('GENURLAUTH', 'URLFETCH', 'RESETKEY'):
    imaplib.Commands[name] = ('AUTH', 'SELECTED')

alice = imaplib.IMAP4(host, port)
alice.login('alice', 'secret')
alice.create('PyBox')
typ, data = alice.append('PyBox', None, None, MESSAGE)
assert typ == 'OK', (typ, data)
uid = re.search(r'APPENDUID \d+ (\d+)', data[0].decode()).group(1)
url = 'imap://alice@%s/PyBox/;uid=%s/;section=2;urlauth=user+bob' % (host, uid)
typ, data = alice._simple_command('GENURLAUTH', '"%s"' % url, 'INTERNAL')
assert typ == 'OK', (typ, data)
typ, data = alice._untagged_response(typ, data, 'GENURLAUTH')
authorized = data[0].decode().strip('"')
print('generated:', authorized)

bob = imaplib.IMAP4(host, port)
bob.login('bob', 'hunter2')
typ, data = bob._simple_command('URLFETCH', '"%s"' % authorized)
assert typ == 'OK', (typ, data)
typ, data = bob._untagged_response(typ, data, 'URLFETCH')
# imaplib gives a literal as a (prefix, bytes) tuple.
print('fetched:', data[0][1].decode())
wrong = authorized[:-1] + ('0' if authorized[-1] != '0' else '1')
typ, data = bob._simple_command('URLFETCH', '"%s"' % wrong)
typ, data = bob._untagged_response(typ, data, 'URLFETCH')
print('wrong key:', None if data[0].decode().endswith(' NIL') else data[0])
# CATENATE (RFC 4469) with a relative URL and URL-PARTIAL (RFC 5550), as a raw APPEND.
typ, data = alice._simple_command('APPEND', 'PyBox', 'CATENATE', '(URL "/PyBox/;uid=%s/;section=HEADER" URL "/PyBox/;uid=%s/;section=2/;partial=0.7")' % (uid, uid))
assert typ == 'OK', (typ, data)

alice.select('PyBox', readonly=True)
typ, data = alice.uid('FETCH', str(int(uid) + 1), '(BODY.PEEK[TEXT])')
print('catenated text:', data[0][1].decode())
typ, data = alice._simple_command('APPEND', 'PyBox', 'CATENATE', '(URL "imap://bob@%s/INBOX/;uid=1")' % host)
print('other user:', typ, alice.untagged_responses.get('BADURL') or '')
alice.logout()
bob.logout()
