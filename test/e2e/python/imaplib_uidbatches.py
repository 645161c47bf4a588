"""Python imaplib as a UIDONLY client that reads a mailbox in batches (RFC 9586 with RFC 10022):
ENABLE UIDONLY, UIDBATCHES, then one UID FETCH per range; the responses are UIDFETCH, named by
UID. Prints one line per step for the test to check.

usage: imaplib_uidbatches.py HOST PORT MAILBOX SIZE
"""
import imaplib
import re
import sys

host, port, box, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
imaplib.Commands["UIDBATCHES"] = ("SELECTED",)  # imaplib's table of commands it may send
m = imaplib.IMAP4(host, port)
m.login("alice", "secret")
typ, data = m.capability()
caps = data[0].decode().split()
print("CAPS:", " ".join(c for c in caps if c in ("UIDONLY", "UIDBATCHES")))
typ, data = m._simple_command("ENABLE", "UIDONLY")
assert typ == "OK", (typ, data)
print("ENABLED:", m._untagged_response(typ, data, "ENABLED")[1])
m.select(box)

try:
    m._simple_command("FETCH", "1", "(FLAGS)")
    print("FETCH: accepted")
except imaplib.IMAP4.error as err:
    print("FETCH:", str(err).split("]")[0].split("[")[-1])

typ, data = m._simple_command("UIDBATCHES", size)
assert typ == "OK", (typ, data)
line = m._untagged_response(typ, data, "UIDBATCHES")[1][0].decode()
ranges = line.split(") ", 1)[1].split(",") if ") " in line else []
print("RANGES:", ranges)

seen, sizes = [], []
for r in ranges:
    high, low = r.split(":")
    typ, data = m._simple_command("UID", "FETCH", f"{low}:{high}", "(FLAGS)")
    assert typ == "OK", (typ, data)
    got = m.untagged_responses.pop("UIDFETCH", [])
    assert not m.untagged_responses.pop("FETCH", None), "a FETCH response under UIDONLY"
    uids = [int(re.match(rb"(\d+) ", d).group(1)) if isinstance(d, bytes) else int(re.match(rb"(\d+) ", d[0]).group(1)) for d in got]
    sizes.append(len(uids))
    seen += uids
print("BATCH SIZES:", sizes)
print("UIDS:", sorted(seen))
m.logout()
