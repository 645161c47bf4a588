"""UNAUTHENTICATE (RFC 8437) through Python's standard imaplib, which has no method for it: the
command is sent with imaplib's own command machinery, then the same connection logs in as
another user and sees only that user's mailboxes and messages.

Usage: imaplib_unauthenticate.py HOST PORT
Prints a JSON summary on success.
"""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
imaplib.Commands.setdefault("UNAUTHENTICATE", ("AUTH", "SELECTED"))

m = imaplib.IMAP4(host, port)
assert m.login("alice", "secret")[0] == "OK"
typ, caps = m.capability()
assert b"UNAUTHENTICATE" in caps[0].split(), caps
assert m.create("py-alice-only")[0] == "OK"
assert m.append("INBOX", None, None, b"Subject: alice's\r\n\r\nfor alice\r\n")[0] == "OK"
assert m.select("INBOX")[0] == "OK"

typ, data = m._simple_command("UNAUTHENTICATE")
assert typ == "OK", (typ, data)
m.state = "NONAUTH"

assert m.login("bob", "hunter2")[0] == "OK"
typ, listed = m.list()
assert typ == "OK", listed
names = [line.decode() for line in listed]
assert not any("py-alice-only" in n for n in names), names
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"0"], (typ, data)
typ, data = m.status("py-alice-only", "(MESSAGES)")
assert typ == "NO", (typ, data)
m.logout()
print(json.dumps({"bob_mailboxes": names}))
