"""RFC 4978 COMPRESS=DEFLATE through `openssl s_client`: openssl does TLS, this script speaks
IMAP through its stdin/stdout, plaintext until COMPRESS's OK and raw deflate (wbits -15, a sync
flush per command) after it. Prints one line per step for the test to check.

usage: compress_openssl.py HOST TLS_PORT
"""
import os
import re
import subprocess
import sys
import zlib

host, port = sys.argv[1], sys.argv[2]
proc = subprocess.Popen(
    ["openssl", "s_client", "-connect", f"{host}:{port}", "-quiet", "-nocommands", "-verify_quiet"],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
    stderr=subprocess.DEVNULL,
)
out_fd = proc.stdout.fileno()

received = b""  # inflated (or, before COMPRESS, plain) bytes not consumed yet
inflater = None
deflater = None


def fill():
    global received
    chunk = os.read(out_fd, 65536)
    if not chunk:
        raise SystemExit(f"connection closed; unread: {received[-200:]!r}")
    received += inflater.decompress(chunk) if inflater else chunk


def line():
    global received
    while b"\r\n" not in received:
        fill()
    text, received = received.split(b"\r\n", 1)
    return text.decode("latin1")


def take(n):
    global received
    while len(received) < n:
        fill()
    data, received = received[:n], received[n:]
    return data


def send(text):
    data = text.encode("latin1")
    if deflater:
        data = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
    proc.stdin.write(data)
    proc.stdin.flush()


def command(tag, text):
    send(f"{tag} {text}\r\n")
    lines = []
    while True:
        ln = line()
        lines.append(ln)
        if ln.startswith(tag + " "):
            return lines


greeting = line()
assert greeting.startswith("* OK"), greeting
print("LOGIN:", command("a", "LOGIN alice secret")[-1])
reply = command("z", "COMPRESS DEFLATE")[-1]
print("COMPRESS:", reply)
assert reply == "z OK DEFLATE active", reply
# Everything after the CRLF of that OK is compressed both ways (RFC 4978 §3).
assert received == b"", received
inflater = zlib.decompressobj(-15)
deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
print("SELECT:", " ".join(command("s", "SELECT INBOX")))

send("f FETCH 1 BODY.PEEK[]\r\n")
head = line()
m = re.match(r"^\* 1 FETCH \(BODY\[\] \{(\d+)\}$", head)
assert m, head
body = take(int(m.group(1))).decode("latin1")
rest = line()
assert rest == ")", rest
done = line()
assert done.startswith("f OK"), done
subject = re.search(r"^Subject: (.*)$", body, re.M).group(1).strip()
body_lines = body.split("\r\n\r\n", 1)[1].count("\r\n")
print(f"FETCH: literal {m.group(1)} bytes, {body_lines} body lines, Subject: {subject}")
print("LOGOUT:", command("l", "LOGOUT")[0])
proc.stdin.close()
proc.wait(timeout=10)
