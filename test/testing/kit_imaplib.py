"""Python imaplib through postroom/testing: STARTTLS, the preloaded mail, an injected NO, a delay, a drop."""
import imaplib, json, ssl, sys, time

host, port = sys.argv[1], int(sys.argv[2])
out = {}
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

m = imaplib.IMAP4(host, port)
m.starttls(ssl_context=ctx)
m.login('alice', 'pw')
typ, data = m.select('INBOX')
out['exists'] = int(data[0])
typ, data = m.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['subject'] = data[0][1].decode().strip()
# The test armed: CREATE answered NO, STATUS delayed 300 ms, NOOP drops the connection.
typ, data = m.create('Box')
out['create'] = typ
t0 = time.time()
typ, data = m.status('INBOX', '(MESSAGES)')
out['status_delay_ms'] = int((time.time() - t0) * 1000)
try:
    m.noop()
    out['drop'] = 'not dropped'
except (imaplib.IMAP4.abort, OSError) as e:
    out['drop'] = 'aborted'
print(json.dumps(out))
