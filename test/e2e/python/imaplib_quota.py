"""QUOTA (RFC 9208) through Python's standard imaplib: getquotaroot, getquota, setquota, and an
APPEND refused with [OVERQUOTA].

Usage: imaplib_quota.py HOST PORT
alice is an administrator of the test server. Prints a JSON summary on success.
"""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
m = imaplib.IMAP4(host, port)
assert m.login("alice", "secret")[0] == "OK"
for cap in ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE", "QUOTASET"):
    assert cap in m.capabilities, (cap, m.capabilities)

typ, data = m.setquota('""', "(MESSAGE 2 STORAGE 64)")
assert typ == "OK", (typ, data)
body = b"Subject: py quota\r\n\r\nbody\r\n"
assert m.append("INBOX", None, None, body)[0] == "OK"
assert m.append("INBOX", None, None, body)[0] == "OK"
typ, data = m.append("INBOX", None, None, body)
refused = data[0].decode()
assert typ == "NO" and refused.startswith("[OVERQUOTA]"), (typ, data)

typ, data = m.getquotaroot("INBOX")
assert typ == "OK", (typ, data)
roots, quotas = data
assert roots == [b'INBOX ""'], roots
assert quotas == [b'"" (STORAGE 0 64 MESSAGE 2 2)'], quotas
typ, data = m.getquota('""')
assert typ == "OK" and data == [b'"" (STORAGE 0 64 MESSAGE 2 2)'], data
typ, data = m.status("INBOX", "(MESSAGES SIZE)")
assert data == [b"INBOX (MESSAGES 2 SIZE %d)" % (2 * len(body))], data
m.logout()
print(json.dumps({"refused": refused, "quota": quotas[0].decode()}))
