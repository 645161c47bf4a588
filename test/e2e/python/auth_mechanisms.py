"""Every SASL mechanism Postroom offers, through imaplib's authenticate(), success and failure.

Usage: auth_mechanisms.py HOST TLS_PORT
Users: alice/pw-alice (scrypt + SCRAM keys), carol/pw-carol ({PLAIN}: CRAM-MD5).
Tokens: "tok-<user>" is valid for <user>.
Prints one JSON object: mechanism -> outcome, for the Node test to check.
"""
import base64
import hashlib
import hmac
import imaplib
import json
import os
import ssl
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE

results = {}


def connect():
    return imaplib.IMAP4_SSL(HOST, PORT, ssl_context=CTX)


def attempt(name, mechanism, authobject):
    """Runs one AUTHENTICATE; records OK, NO or BAD (imaplib raises on both NO and BAD)."""
    m = connect()
    try:
        typ, _ = m.authenticate(mechanism, authobject)
        results[name] = typ
        if typ == 'OK':
            typ, data = m.select('INBOX')
            results[name + '/select'] = typ
    except imaplib.IMAP4.error as e:
        text = str(e)
        results[name] = 'BAD' if 'BAD' in text or 'cancel' in text.lower() else 'NO'
        results[name + '/text'] = text
    finally:
        try:
            m.logout()
        except Exception:
            pass


# --- PLAIN and LOGIN ---------------------------------------------------------
attempt('PLAIN ok', 'PLAIN', lambda _: b'\0alice\0pw-alice')
attempt('PLAIN bad', 'PLAIN', lambda _: b'\0alice\0wrong')


def login_mech(user, password):
    def answer(challenge):
        return user.encode() if challenge.startswith(b'User') else password.encode()
    return answer


attempt('LOGIN ok', 'LOGIN', login_mech('alice', 'pw-alice'))
attempt('LOGIN bad', 'LOGIN', login_mech('alice', 'nope'))


# --- SCRAM-SHA-256, a test client written from RFC 5802 §3 / RFC 7677 ----------
class Scram:
    def __init__(self, user, password, tamper_server=False):
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.step = 0
        self.server_ok = None

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            self.first_bare = 'n=%s,r=%s' % (self.user.replace('=', '=3D').replace(',', '=2C'), self.nonce)
            return ('n,,' + self.first_bare).encode()
        if self.step == 2:
            server_first = challenge.decode()
            attrs = dict(a.split('=', 1) for a in server_first.split(','))
            assert attrs['r'].startswith(self.nonce), 'server nonce must extend ours'
            salted = hashlib.pbkdf2_hmac('sha256', self.password.encode(), base64.b64decode(attrs['s']), int(attrs['i']))
            client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
            stored_key = hashlib.sha256(client_key).digest()
            without_proof = 'c=biws,r=' + attrs['r']
            auth_message = ','.join([self.first_bare, server_first, without_proof]).encode()
            signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()
            self.expected_v = base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest()).decode()
            return (without_proof + ',p=' + base64.b64encode(proof).decode()).encode()
        # Server-final arrives as a last challenge; check the server's signature, answer empty.
        self.server_ok = challenge.decode() == 'v=' + self.expected_v
        return b''


scram = Scram('alice', 'pw-alice')
attempt('SCRAM-SHA-256 ok', 'SCRAM-SHA-256', scram)
results['SCRAM-SHA-256 server signature'] = scram.server_ok
attempt('SCRAM-SHA-256 bad', 'SCRAM-SHA-256', Scram('alice', 'pw-wrong'))
attempt('SCRAM-SHA-256 unknown user', 'SCRAM-SHA-256', Scram('nobody', 'pw-alice'))
attempt('SCRAM-SHA-256 no keys', 'SCRAM-SHA-256', Scram('carol', 'pw-carol'))

# --- CRAM-MD5: imaplib's own client -----------------------------------------
for name, pw in [('CRAM-MD5 ok', 'pw-carol'), ('CRAM-MD5 bad', 'pw-wrong')]:
    m = connect()
    try:
        results[name] = m.login_cram_md5('carol', pw)[0]
    except imaplib.IMAP4.error:
        results[name] = 'NO'
    m.logout()


# --- OAUTHBEARER (RFC 7628) and XOAUTH2 ---------------------------------------
def oauthbearer(user, token):
    def answer(challenge):
        if challenge:  # the JSON error: RFC 7628 §3.2.3 says answer with %x01
            results['OAUTHBEARER error challenge'] = json.loads(challenge.decode()).get('status')
            return b'\x01'
        return ('n,a=%s,\x01host=%s\x01port=%d\x01auth=Bearer %s\x01\x01' % (user, HOST, PORT, token)).encode()
    return answer


def xoauth2(user, token):
    def answer(challenge):
        if challenge:
            results['XOAUTH2 error challenge'] = json.loads(challenge.decode()).get('status')
            return b''
        return ('user=%s\x01auth=Bearer %s\x01\x01' % (user, token)).encode()
    return answer


attempt('OAUTHBEARER ok', 'OAUTHBEARER', oauthbearer('alice', 'tok-alice'))
attempt('OAUTHBEARER bad', 'OAUTHBEARER', oauthbearer('alice', 'expired'))
attempt('XOAUTH2 ok', 'XOAUTH2', xoauth2('alice', 'tok-alice'))
attempt('XOAUTH2 bad', 'XOAUTH2', xoauth2('alice', 'expired'))

# --- cancel and unknown mechanism -----------------------------------------
attempt('cancel', 'PLAIN', lambda _: None)  # imaplib sends "*" when the authobject returns None
attempt('unknown mechanism', 'DIGEST-MD5', lambda _: b'')

print(json.dumps(results))
