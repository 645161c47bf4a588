"""Per-user \\Seen in a shared mailbox through Python's standard imaplib, as bob.

Usage: imaplib_private_seen.py HOST PORT
bob selects Shared/alice/Team (alice granted "lrs"), reads message 1 with FETCH BODY[] (which sets
\\Seen, RFC 3501 section 6.4.5), and reports what he sees: the FLAGS of each message, SEARCH SEEN
and UNSEEN, and STATUS UNSEEN of the mailbox. Prints JSON; any assertion failing exits non-zero.
"""
import imaplib
import json
import re
import sys

host, port = sys.argv[1], int(sys.argv[2])
m = imaplib.IMAP4(host, port)
assert m.login("bob", "hunter2")[0] == "OK"
typ, data = m.select("Shared/alice/Team")
assert typ == "OK", (typ, data)
typ, data = m.fetch("1", "(BODY[])")
assert typ == "OK", (typ, data)
head = data[0][0].decode()
assert b"Subject: team 1" in data[0][1], data
# The \Seen the read set comes with the FETCH (in the same response or one after it).
flags_after_read = " ".join(x.decode() if isinstance(x, bytes) else x[0].decode() for x in data)
assert "\\Seen" in flags_after_read, data
typ, data = m.fetch("1:*", "(FLAGS)")
assert typ == "OK", (typ, data)
flags = {}
for line in data:
    found = re.match(r"(\d+) \(FLAGS \(([^)]*)\)\)", line.decode())
    assert found, line
    flags[found.group(1)] = found.group(2).split()
typ, seen = m.search(None, "SEEN")
assert typ == "OK"
typ, unseen = m.search(None, "UNSEEN")
assert typ == "OK"
m.close()
typ, data = m.status("Shared/alice/Team", "(MESSAGES UNSEEN)")
assert typ == "OK", (typ, data)
status = data[0].decode()
m.logout()
print(json.dumps({"flags": flags, "seen": seen[0].decode(), "unseen": unseen[0].decode(), "status": status}))
