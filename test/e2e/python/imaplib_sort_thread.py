"""SORT and THREAD through Python's standard imaplib (IMAP4.sort, IMAP4.thread, UID SORT/THREAD).

Usage: imaplib_sort_thread.py HOST PORT
Appends a small reply tree, then asserts every answer; prints a JSON summary on success.
"""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
m = imaplib.IMAP4(host, port)
assert m.login("alice", "secret")[0] == "OK"
for cap in ("SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT", "THREAD=REFS", "ESORT"):
    assert cap in m.capabilities, (cap, m.capabilities)
assert m.create("py-sort")[0] == "OK"


def message(subject, date, frm, mid, refs=None):
    head = "From: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n" % (frm, subject, date, mid)
    if refs:
        head += "References: %s\r\n" % " ".join("<%s>" % r for r in refs)
    return (head + "\r\nbody of %s\r\n" % mid).encode()


msgs = [
    message("Plan", "Wed, 1 Mar 2000 10:00:00 +0000", "zed@example.org", "a@py"),
    message("Re: Plan", "Wed, 1 Mar 2000 12:00:00 +0000", '"Ann" <ann@example.org>', "b@py", ["a@py"]),
    message("Lunch", "Tue, 29 Feb 2000 09:00:00 +0000", "bob@example.org (Bob B)", "c@py"),
    message("Re: Re: plan", "Thu, 2 Mar 2000 08:00:00 -0500", "carol@example.org", "d@py", ["a@py", "b@py"]),
    message("Re: Plan", "Thu, 2 Mar 2000 09:00:00 +0000", "dave@example.org", "e@py", ["a@py"]),
]
for raw in msgs:
    assert m.append("py-sort", None, None, raw)[0] == "OK"
assert m.select("py-sort")[0] == "OK"

summary = {}
typ, data = m.sort("(DATE)", "UTF-8", "ALL")
assert typ == "OK" and data == [b"3 1 2 5 4"], data  # 4 is 13:00 UTC, after 5's 09:00
typ, data = m.sort("(REVERSE DATE)", "UTF-8", "ALL")
assert data == [b"4 5 2 1 3"], data
typ, data = m.sort("(SUBJECT DATE)", "US-ASCII", "ALL")
assert data == [b"3 1 2 5 4"], data
typ, data = m.sort("(FROM)", "UTF-8", "ALL")
assert data == [b"2 3 4 5 1"], data
typ, data = m.sort("(DISPLAYFROM)", "UTF-8", "ALL")
assert data == [b"2 3 4 5 1"], data  # ANN, BOB B, CAROL@..., DAVE@..., ZED@...
typ, data = m.sort("(SIZE)", "UTF-8", 'SUBJECT "lunch"')
assert data == [b"3"], data
typ, data = m.uid("SORT", "(REVERSE ARRIVAL)", "UTF-8", "ALL")
assert typ == "OK" and len(data[0].split()) == 5, data
summary["sort"] = data[0].decode()

typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
assert typ == "OK" and data == [b"(3)(1 (2 4)(5))"], data
summary["thread"] = data[0].decode()
typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
assert data == [b"(3)(1 (2)(5)(4))"], data
typ, data = m.thread("REFS", "UTF-8", "ALL")
assert data == [b"(3)(1 (2 4)(5))"], data
typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
assert typ == "OK" and data[0].count(b"(") == 4, data

# A charset that does not exist: NO [BADCHARSET] (imaplib returns NO; it raises only for BAD).
typ, data = m.sort("(DATE)", "X-NO-SUCH", "ALL")
assert typ == "NO" and b"BADCHARSET" in data[0], (typ, data)
summary["badcharset"] = typ
m.logout()
print(json.dumps(summary))
