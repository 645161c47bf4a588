"""UTF8=ACCEPT (RFC 6855) with Python's imaplib, which turns on UTF-8 after enable("UTF8=ACCEPT").

Usage: imaplib_utf8.py HOST PORT
A client that did not enable it gets 7-bit text only: the RFC 2231 attachment name in its
`name*` form, mailbox names in modified UTF-7. One that did gets UTF-8 for both.
"""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
summary = {}
MESSAGE = (
    b"Subject: report\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    b"--b\r\nContent-Type: text/csv; name*=utf-8''%C3%9Cbersicht.csv\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''%C3%9Cbersicht.csv\r\n\r\na,b\r\n"
    b"--b--\r\n"
)

plain = imaplib.IMAP4(host, port)
plain.login("alice", "secret")
assert "UTF8=ACCEPT" in plain.capabilities, plain.capabilities
typ, _ = plain.append("INBOX", None, None, MESSAGE)
assert typ == "OK"
plain.select("INBOX")
typ, data = plain.fetch("1", "(BODYSTRUCTURE)")
assert typ == "OK", data
raw = data[0] if isinstance(data[0], bytes) else b"".join(x for part in data for x in (part if isinstance(part, tuple) else [part]))
assert all(b < 0x80 for b in raw), raw
assert b"\"filename*\" \"utf-8''%C3%9Cbersicht.csv\"" in raw, raw
assert b"\"name*\" \"utf-8''%C3%9Cbersicht.csv\"" in raw, raw
summary["ascii_bodystructure"] = raw.decode("ascii")

utf8 = imaplib.IMAP4(host, port)
utf8.login("alice", "secret")
typ, data = utf8.enable("UTF8=ACCEPT")
assert typ == "OK", data
assert utf8.utf8_enabled
typ, data = utf8.create('"Entwürfe"')
assert typ == "OK", data
typ, data = utf8.list()
names = [line.decode("utf-8") for line in data]
assert any(line.endswith('"/" Entwürfe') or line.endswith('"/" "Entwürfe"') for line in names), names
typ, data = utf8.select('"Entwürfe"')
assert typ == "OK", data
typ, data = utf8.select("INBOX")
typ, data = utf8.fetch("1", "(BODYSTRUCTURE)")
assert typ == "OK", data
text = (data[0] if isinstance(data[0], bytes) else data[0][0]).decode("utf-8")
assert '"filename" "Übersicht.csv"' in text, text
summary["utf8_bodystructure"] = text
utf8.logout()

# The session that never enabled UTF-8 sees the same mailbox in modified UTF-7.
typ, data = plain.list()
assert any(line.endswith(b"Entw&APw-rfe") or line.endswith(b'"Entw&APw-rfe"') for line in data), data
plain.logout()
print(json.dumps(summary))
