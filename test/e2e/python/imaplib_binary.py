"""BINARY (RFC 3516) with Python's imaplib: FETCH BINARY.PEEK[n] of a base64 part comes back
decoded, a part holding NUL bytes arrives as a literal8 (imaplib reads "~{n}" like "{n}"), and
BINARY.SIZE matches what BINARY sends.

Usage: imaplib_binary.py HOST PORT
"""
import imaplib
import json
import sys

host, port = sys.argv[1], int(sys.argv[2])
PAYLOAD = bytes([0, 1, 2, 0xFF, 0x80, 0]) + b"tail"
MESSAGE = (
    b"Subject: py binary\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"AAEC/4AAdGFpbA==\r\n"
    b"--b--\r\n"
)

c = imaplib.IMAP4(host, port)
c.login("alice", "secret")
assert "BINARY" in c.capabilities, c.capabilities
c.create("PyBinary")
typ, _ = c.append("PyBinary", None, None, MESSAGE)
assert typ == "OK"
c.select("PyBinary")
typ, data = c.fetch("1", "(BINARY.PEEK[2])")
assert typ == "OK", data
assert isinstance(data[0], tuple), data
assert data[0][0].endswith(b"BINARY[2] ~{10}"), data[0][0]
assert data[0][1] == PAYLOAD, data[0][1]
typ, data = c.fetch("1", "(BINARY.SIZE[2] BINARY.SIZE[1])")
assert typ == "OK", data
assert b"BINARY.SIZE[2] 10" in data[0] and b"BINARY.SIZE[1] 5" in data[0], data
typ, data = c.fetch("1", "(FLAGS)")
assert b"\\Seen" not in data[0], data
typ, data = c.fetch("1", "(BINARY[1])")
assert typ == "OK" and data[0][1] == b"hello", data
typ, data = c.fetch("1", "(FLAGS)")
assert b"\\Seen" in data[0], data
try:
    c.fetch("1", "(BINARY.PEEK[2.MIME])")
    raise AssertionError("BINARY[2.MIME] was accepted")
except imaplib.IMAP4.error as e:
    assert "BAD" in str(e) or "section" in str(e).lower(), e
c.logout()
print(json.dumps({"binary": "ok"}))
