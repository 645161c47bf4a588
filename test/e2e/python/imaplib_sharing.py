"""RFC 4314 sharing through Python's standard imaplib (setacl, getacl, myrights, listrights,
deleteacl), one step per run so the test can interleave two users and imapflow.

Usage: imaplib_sharing.py HOST PORT STEP
  alice-share  alice creates Team with two messages and shares it read-only (lr) with bob
  bob-readonly bob finds it under Shared/, reads it, cannot flag, expunge or delete it
  alice-grant  alice grants bob "w" (SETACL +w) and checks GETACL
  bob-flag     bob flags message 1 \\Flagged in Shared/alice/Team
Prints a JSON summary on success; any assertion failing exits non-zero.
"""
import imaplib
import json
import sys

host, port, step = sys.argv[1], int(sys.argv[2]), sys.argv[3]
summary = {"step": step}


def login(user, password):
    m = imaplib.IMAP4(host, port)
    assert m.login(user, password)[0] == "OK"
    for cap in ("ACL", "RIGHTS=TEXK", "NAMESPACE"):  # imaplib upper-cases them
        assert cap in m.capabilities, (cap, m.capabilities)
    return m


if step == "alice-share":
    m = login("alice", "secret")
    assert m.create("Team")[0] == "OK"
    for n in (1, 2):
        body = ("From: alice@example.org\r\nSubject: team %d\r\n\r\nhello %d\r\n" % (n, n)).encode()
        assert m.append("Team", None, None, body)[0] == "OK"
    typ, data = m.setacl("Team", "bob", "lr")
    assert typ == "OK", (typ, data)
    typ, data = m.getacl("Team")
    assert typ == "OK" and data == [b"Team alice lrswipkxteacd bob lr"], data
    # imaplib has no listrights(): the same through its generic command machinery.
    imaplib.Commands["LISTRIGHTS"] = ("AUTH", "SELECTED")
    typ, data = m._untagged_response(*m._simple_command("LISTRIGHTS", "Team", "bob"), "LISTRIGHTS")
    assert typ == "OK" and data == [b'Team bob "" l r s w i p k x t e a'], data
    m.logout()

elif step == "bob-readonly":
    m = login("bob", "hunter2")
    typ, data = m.namespace()
    assert data == [b'(("" "/")) (("Shared/" "/")) NIL'], data
    typ, data = m.list('""', "Shared/*")
    names = [d.decode() for d in data if d]
    assert any(n.endswith('"Shared/alice/Team"') or n.endswith(" Shared/alice/Team") for n in names), names
    typ, data = m.myrights("Shared/alice/Team")
    assert typ == "OK" and data == [b"Shared/alice/Team lr"], data
    # SELECT answers [READ-ONLY] (RFC 4314 section 5.2: bob holds none of i e s w t), which imaplib
    # reports by raising its readonly error; the mailbox is selected all the same.
    try:
        m.select("Shared/alice/Team")
        raise AssertionError("SELECT was not READ-ONLY")
    except imaplib.IMAP4.readonly:
        summary["select"] = "READ-ONLY"
    # imaplib then refuses to go on unless the mailbox is opened read-only on purpose (EXAMINE).
    typ, data = m.select("Shared/alice/Team", readonly=True)
    assert typ == "OK" and data == [b"2"], (typ, data)
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"team 1" in data[0][1], data
    typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
    assert typ == "NO", (typ, data)
    summary["store"] = data[0].decode()
    typ, data = m.expunge()
    assert typ == "NO", (typ, data)
    m.close()
    typ, data = m.delete("Shared/alice/Team")
    assert typ == "NO" and data[0].startswith(b"[NOPERM]"), (typ, data)
    summary["delete"] = data[0].decode()
    typ, data = m.getacl("Shared/alice/Team")
    assert typ == "NO" and data[0].startswith(b"[NOPERM]"), (typ, data)
    m.logout()

elif step == "alice-grant":
    m = login("alice", "secret")
    typ, data = m.setacl("Team", "bob", "+w")
    assert typ == "OK", (typ, data)
    typ, data = m.getacl("Team")
    assert data == [b"Team alice lrswipkxteacd bob lrw"], data
    m.logout()

elif step == "bob-flag":
    m = login("bob", "hunter2")
    typ, data = m.myrights("Shared/alice/Team")
    assert data == [b"Shared/alice/Team lrw"], data
    typ, data = m.select("Shared/alice/Team")
    assert typ == "OK", (typ, data)
    assert "READ-WRITE" in m.untagged_responses, m.untagged_responses
    typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
    assert typ == "OK" and b"\\Flagged" in data[0], (typ, data)
    m.logout()

else:
    raise SystemExit("unknown step " + step)

print(json.dumps(summary))
