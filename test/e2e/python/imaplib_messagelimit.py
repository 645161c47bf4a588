"""Python imaplib as a client that knows RFC 9738 MESSAGELIMIT and SAVELIMIT: it reads the limits
from CAPABILITY, pages a UID FETCH and a UID SEARCH through a mailbox larger than the limit by
the UID the tagged OK names, and copies in pieces of at most SAVELIMIT after a refused COPY.
Prints one line per step for the test to check.

usage: imaplib_messagelimit.py HOST PORT MAILBOX TARGET
"""
import imaplib
import re
import sys

host, port, box, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
m = imaplib.IMAP4(host, port)
m.login("alice", "secret")
typ, data = m.capability()
caps = data[0].decode().split()
limit = int(next(c for c in caps if c.startswith("MESSAGELIMIT=")).split("=")[1])
save = int(next(c for c in caps if c.startswith("SAVELIMIT=")).split("=")[1])
print(f"LIMITS: {limit} {save}")


def tagged(*args):
    """Runs a command; returns (status, tagged text, untagged data of the command's name)."""
    tag = m._command(*args)
    typ, data = m._command_complete(args[1] if args[0] == "UID" else args[0], tag)
    text = data[0].decode() if data and data[0] else ""
    name = args[1] if args[0] == "UID" else args[0]
    return typ, text, m.untagged_responses.pop(name, [])


def lowest(text):
    """The UID in [MESSAGELIMIT n uid], or None when the command processed everything."""
    found = re.match(r"\[MESSAGELIMIT (\d+)(?: (\d+))?\]", text)
    return int(found.group(2)) if found and found.group(2) else None


m.select(box)
# Paging FETCH: every UID once, each page at most `limit` messages.
uids, pages, upper = [], [], "*"
while True:
    typ, text, data = tagged("UID", "FETCH", f"1:{upper}", "(UID)")
    assert typ == "OK", (typ, text)
    page = [int(re.search(rb"UID (\d+)", d).group(1)) for d in data if d]
    pages.append(len(page))
    uids += page
    low = lowest(text)
    if low is None:
        break
    if low == 1:
        break
    upper = low - 1
print("FETCH PAGES:", pages)
print("FETCH UIDS:", sorted(uids))

# Paging SEARCH with UIDBEFORE (RFC 9738).
found, criteria = [], "ALL"
while True:
    typ, text, data = tagged("UID", "SEARCH", criteria)
    assert typ == "OK", (typ, text)
    page = [int(x) for x in data[0].split()] if data and data[0] else []
    found += page
    low = lowest(text)
    if low is None:
        break
    criteria = f"UIDBEFORE {low}"
print("SEARCH UIDS:", sorted(found))

# COPY of everything: refused past SAVELIMIT, nothing copied; then in pieces.
typ, text, _ = tagged("UID", "COPY", "1:*", target)
print("COPY ALL:", typ, text.split("]")[0] + "]")
typ, data = m.status(target, "(MESSAGES)")
print("TARGET AFTER REFUSAL:", data[0].decode())
ordered = sorted(uids)
for i in range(0, len(ordered), save):
    piece = ordered[i:i + save]
    typ, text, _ = tagged("UID", "COPY", ",".join(map(str, piece)), target)
    assert typ == "OK", (typ, text)
typ, data = m.status(target, "(MESSAGES)")
print("TARGET AFTER PIECES:", data[0].decode())
m.logout()
