#!/usr/bin/env python3
"""Drives a POP3 server with Python's poplib and prints what it saw as JSON.

Usage: poplib_client.py '{"port": 1110, "tls": "stls"|"implicit", "user": "...", "password": "...",
                          "scenario": "read"|"apop"|"dele_rset"|"dele_quit"|"drop"|"in_use"}'
"""
import hashlib
import json
import poplib
import ssl
import sys

args = json.loads(sys.argv[1])
HOST = "127.0.0.1"
CTX = ssl._create_unverified_context()


def connect():
    if args["tls"] == "implicit":
        return poplib.POP3_SSL(HOST, args["port"], context=CTX, timeout=30)
    conn = poplib.POP3(HOST, args["port"], timeout=30)
    conn.stls(context=CTX)
    return conn


def login(conn):
    conn.user(args["user"])
    conn.pass_(args["password"])


def text(b):
    return b.decode("latin1")


def read(out):
    conn = connect()
    out["capa"] = sorted(conn.capa().keys())
    login(conn)
    count, size = conn.stat()
    out["stat"] = [count, size]
    out["list"] = [text(l) for l in conn.list()[1]]
    out["uidl"] = [text(l) for l in conn.uidl()[1]]
    out["top"] = [text(l) for l in conn.top(1, 2)[1]]
    out["messages"] = []
    for n in range(1, count + 1):
        resp, lines, octets = conn.retr(n)
        body = b"\r\n".join(lines) + b"\r\n"
        out["messages"].append({
            "resp": text(resp),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        })
    out["quit"] = text(conn.quit())


def apop(out):
    conn = connect()
    out["timestamp"] = text(conn.timestamp.search(conn.welcome).group(1))
    conn.apop(args["user"], args["password"])
    out["stat"] = list(conn.stat())
    try:
        conn2 = connect()
        conn2.apop(args["user"], "wrong secret")
        out["wrong"] = "accepted"
    except poplib.error_proto as e:
        out["wrong"] = text(e.args[0])
    out["quit"] = text(conn.quit())


def dele_rset(out):
    conn = connect()
    login(conn)
    out["dele"] = text(conn.dele(1))
    out["after_dele"] = list(conn.stat())
    out["rset"] = text(conn.rset())
    out["after_rset"] = list(conn.stat())
    out["quit"] = text(conn.quit())


def dele_quit(out):
    conn = connect()
    login(conn)
    out["before"] = list(conn.stat())
    out["dele"] = text(conn.dele(1))
    out["quit"] = text(conn.quit())


def drop(out):
    conn = connect()
    login(conn)
    out["before"] = list(conn.stat())
    out["dele"] = text(conn.dele(1))
    conn.close()  # no QUIT: nothing may be deleted


def in_use(out):
    first = connect()
    login(first)
    second = connect()
    second.user(args["user"])
    try:
        second.pass_(args["password"])
        out["second"] = "accepted"
    except poplib.error_proto as e:
        out["second"] = text(e.args[0])
    out["quit"] = text(first.quit())
    second.close()


out = {}
try:
    globals()[args["scenario"]](out)
except Exception as e:  # reported, not hidden: the node test asserts on it
    out["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(out))
