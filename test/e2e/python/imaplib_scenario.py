"""Drives Postroom with Python's standard imaplib, the way many scripts and tools do.

Usage: imaplib_scenario.py HOST PORT TLS_PORT
Every step asserts what the server answered; a JSON summary goes to stdout.
"""
import email
import imaplib
import json
import ssl
import sys

host, port, tls_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
summary = {}

# STARTTLS: LOGIN is refused before it, accepted after it.
m = imaplib.IMAP4(host, port)
assert "LOGINDISABLED" in m.capabilities, m.capabilities
assert "STARTTLS" in m.capabilities
try:
    m.login("alice", "secret")
    raise AssertionError("LOGIN accepted in plaintext")
except imaplib.IMAP4.error as e:
    summary["plaintext_login"] = str(e)
m.starttls(ssl_context=ctx)
typ, _ = m.login("alice", "secret")
assert typ == "OK"
m.logout()

# Implicit TLS.
m = imaplib.IMAP4_SSL(host, tls_port, ssl_context=ctx)
typ, _ = m.login("alice", "secret")
assert typ == "OK"

# Mailbox tree, including a non-ASCII name in modified UTF-7 (RFC 3501 §5.1.3).
assert m.create("py/child")[0] == "OK"
assert m.create("&AMk-t&AOk-")[0] == "OK"  # "Été"
typ, boxes = m.list('""', "*")
names = [b.decode() for b in boxes]
assert any(n.endswith('"py/child"') or n.endswith(" py/child") for n in names), names
assert any("&AMk-t&AOk-" in n for n in names), names
assert m.rename("py", "python")[0] == "OK"
typ, boxes = m.list('""', "python/*")
assert len(boxes) == 1 and b"python/child" in boxes[0], boxes

# APPEND, SELECT, FETCH, SEARCH, STORE, COPY, EXPUNGE.
msg = (
    b"From: =?UTF-8?Q?Jos=C3=A9?= <jose@example.org>\r\n"
    b"To: alice@example.org\r\n"
    b"Subject: =?ISO-8859-1?Q?caf=E9_time?=\r\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
    b"Message-ID: <py1@example.org>\r\n"
    b"\r\n"
    b"Meet at the caf\xc3\xa9?\r\n"
)
typ, data = m.append("python", r"(\Flagged)", imaplib.Time2Internaldate(760000000), msg)
assert typ == "OK" and b"APPENDUID" in data[0], data
for i in range(3):
    m.append("python", None, None, b"Subject: filler %d\r\n\r\nhello\r\n" % i)
typ, data = m.select("python")
assert typ == "OK" and data[0] == b"4", data
typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[] FLAGS ENVELOPE)")
assert typ == "OK"
assert data[0][1] == msg, data[0][1]
assert b"RFC822.SIZE %d" % len(msg) in data[0][0], data[0][0]
parsed = email.message_from_bytes(data[0][1])
assert parsed["Message-ID"] == "<py1@example.org>"
typ, data = m.fetch("1", "(FLAGS)")
assert b"\\Seen" not in data[0] and b"\\Flagged" in data[0], data

m.literal = "CAFÉ".encode("utf-8")  # sent as a literal; matching is case-insensitive
typ, data = m.search("UTF-8", "SUBJECT")
assert data == [b"1"], data
typ, data = m.search(None, "FROM", "jose")
assert data == [b"1"], data
typ, data = m.search(None, "BODY", "hello")
assert data == [b"2 3 4"], data
typ, data = m.search(None, "OR", "FLAGGED", "SUBJECT", '"filler 2"')
assert data == [b"1 4"], data
typ, data = m.search("KOI8-R", "SUBJECT", "x")
summary["badcharset"] = typ
typ, data = m.uid("SEARCH", None, "UID", "2:3")
assert data == [b"2 3"], data

typ, data = m.store("2:3", "+FLAGS", r"(\Deleted)")
assert typ == "OK" and len(data) == 2, data
typ, data = m.copy("1", "INBOX")
assert typ == "OK"
typ, data = m.expunge()
assert data == [b"3", b"2"], data  # descending: each EXPUNGE renumbers only later messages
typ, data = m.search(None, "ALL")
assert data == [b"1 2"], data
typ, data = m.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
assert data[0][1].startswith(b"Subject: =?ISO-8859-1?Q?caf=E9_time?="), data
typ, data = m.fetch("1", "(FLAGS)")
assert b"\\Seen" in data[0], data  # BODY[...] without .PEEK sets \\Seen (RFC 3501 §6.4.5)
m.close()
typ, data = m.status("python", "(MESSAGES UIDNEXT UNSEEN)")
assert typ == "OK" and b"MESSAGES 2" in data[0], data
summary["status"] = data[0].decode()
assert m.delete("python/child")[0] == "OK"
m.logout()
print(json.dumps(summary))
