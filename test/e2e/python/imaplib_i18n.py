"""I18NLEVEL=1 (RFC 5255 §4) with Python's imaplib: SEARCH CHARSET UTF-8 with the key as a literal
(imaplib's `literal` attribute), matched with the i;unicode-casemap comparator (RFC 5051).

Usage: imaplib_i18n.py HOST PORT
Every answer is asserted here; a JSON summary goes to stdout.
"""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
MESSAGES = [
    b"From: =?utf-8?q?Andr=C3=A9?= <andre@example.org>\r\nSubject: =?utf-8?q?Caf=C3=A9_Stra=C3=9Fe?=\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nTreffen im Caf\xc3\xa9.\r\n",
    b"From: =?utf-8?q?=EF=BC=AD=EF=BD=81=EF=BD=92=EF=BD=89=EF=BD=81?= <m@example.org>\r\nSubject: STRASSE 12\r\n\r\nplain\r\n",
    b"From: k@example.org\r\nSubject: ISTANBUL trip\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "ΣΟΦΟΣ and the oﬃce".encode() + b"\r\n",
    b"From: e@example.org\r\nSubject: cafe abc file\r\n\r\nsofos\r\n",
]

m = imaplib.IMAP4(host, port)
m.login("alice", "secret")
assert "I18NLEVEL=1" in m.capabilities, m.capabilities
m.create("i18n")
for raw in MESSAGES:
    assert m.append("i18n", None, None, raw)[0] == "OK"
assert m.select("i18n")[0] == "OK"


def search(key, value):
    """SEARCH CHARSET UTF-8 <key> {n}<value>: imaplib sends `literal` after the criteria."""
    m.literal = value.encode("utf-8")
    typ, data = m.search("UTF-8", key)
    assert typ == "OK", data
    return [int(n) for n in data[0].split()]


summary = {
    "cafe": search("SUBJECT", "cafe"),
    "straße": search("SUBJECT", "straße"),
    "STRASSE": search("SUBJECT", "STRASSE"),
    "maria": search("FROM", "maria"),
    "ıstanbul": search("SUBJECT", "ıstanbul"),
    "σοφοσ": search("BODY", "σοφοσ"),
    "ＡＢＣ": search("TEXT", "ＡＢＣ"),
    "ﬁ": search("BODY", "ﬁ"),
}
assert summary["cafe"] == [1, 4], summary
assert summary["straße"] == [1], summary
assert summary["STRASSE"] == [2], summary
assert summary["maria"] == [2], summary
assert summary["ıstanbul"] == [3], summary
assert summary["σοφοσ"] == [3], summary
assert summary["ＡＢＣ"] == [4], summary
assert summary["ﬁ"] == [3], summary
# A plain ASCII search without CHARSET folds the same way.
typ, data = m.search(None, "SUBJECT", "CAFE")
assert typ == "OK" and data[0].split() == [b"1", b"4"], data
m.logout()
print(json.dumps(summary, ensure_ascii=False))
