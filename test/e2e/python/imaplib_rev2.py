"""Python imaplib against IMAP4rev2 (RFC 9051): ENABLE IMAP4rev2 by hand (imaplib has no enable()
for it beyond UTF8=ACCEPT), then SELECT, SEARCH (answered with ESEARCH), STATUS DELETED.
Prints one line per step for the test to check.

usage: imaplib_rev2.py HOST PORT MAILBOX
"""
import imaplib
import sys

host, port, box = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = imaplib.IMAP4(host, port)
assert "IMAP4REV2" in m.capabilities, m.capabilities
m.login("alice", "secret")
typ, data = m._simple_command("ENABLE", "IMAP4rev2")
assert typ == "OK", (typ, data)
print("ENABLED:", m._untagged_response(typ, data, "ENABLED")[1])

typ, data = m.select(box)
listed = m.untagged_responses.pop("LIST", None)
print(f"SELECT: {typ} {data[0].decode()}, {'LIST' if listed else 'no LIST'} {listed}")
print("RECENT:", m.untagged_responses.pop("RECENT", None) or "none")

typ, data = m.search(None, "ALL")
assert typ == "OK", (typ, data)
print("ESEARCH:", m.untagged_responses.pop("ESEARCH", None))

typ, data = m.status(box, "(DELETED)")
assert typ == "OK", (typ, data)
print("STATUS:", data)
m.logout()
