# Herald receiver, both schemes, Python 3 standard library only.
# Run: PORT=3000 SECRET=whsec_... RESULTS_FILE=results.log python3 receiver.py
#  or: PORT=3000 SECRET=... SCHEME=hmac-sha256 HEADER=X-AdFlow-Signature ENCODING=hex RESULTS_FILE=results.log python3 receiver.py
import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "3000"))
SECRET = os.environ.get("SECRET", "")
SCHEME = os.environ.get("SCHEME", "standard")
HEADER = os.environ.get("HEADER", "X-AdFlow-Signature")
ENCODING = os.environ.get("ENCODING", "hex")
RESULTS_FILE = os.environ.get("RESULTS_FILE", "results.log")
TOLERANCE_SECONDS = 5 * 60


def verify_standard(headers, raw_body):
    """Returns None when the request is authentic, else why it is not."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing_header"
    if not re.fullmatch(r"[0-9]+", timestamp):
        return "invalid_timestamp"
    age = int(time.time()) - int(timestamp)
    if age > TOLERANCE_SECONDS:
        return "timestamp_too_old"
    if age < -TOLERANCE_SECONDS:
        return "timestamp_too_new"
    # The key is the base64 after the `whsec_` prefix, decoded to bytes.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body  # the body bytes exactly as received
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    # "v1,<sig> v1,<sig>": one signature per live secret while Herald rotates it.
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return None
    return "no_matching_signature"


def verify_hmac(headers, raw_body):
    """Returns None when the request is authentic, else why it is not."""
    current = headers.get(HEADER)
    if not current or not headers.get("webhook-id"):
        return "missing_header"
    # The key is the secret string's UTF-8 bytes; the HMAC covers the raw body only.
    digest = hmac.new(SECRET.encode(), raw_body, hashlib.sha256).digest()
    expected = (digest.hex() if ENCODING == "hex" else base64.b64encode(digest).decode()).encode()
    # While Herald rotates the secret, the old secret's signature is in `<header>-previous`.
    candidates = [current] + headers.get(HEADER + "-previous", "").split(" ")
    for signature in candidates:
        if signature and hmac.compare_digest(signature.encode(), expected):
            return None
    return "no_matching_signature"


# Herald delivers at least once: remember processed ids (use your database in production).
seen = set()
lock = threading.Lock()


def record(line):
    with lock, open(RESULTS_FILE, "a") as f:
        f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw_body = self.rfile.read(length)  # bytes: never decode and re-encode before verifying
        verify = verify_hmac if SCHEME == "hmac-sha256" else verify_standard
        problem = verify(self.headers, raw_body)  # header lookups are case-insensitive
        if not problem:
            try:
                event = json.loads(raw_body)  # parse only after verifying
            except ValueError:
                problem = "invalid_body"
        if problem:
            record("bad " + problem)
            self.send_response(400)
            self.end_headers()
            return
        msg_id = self.headers["webhook-id"]
        with lock:
            duplicate = msg_id in seen
            seen.add(msg_id)
        if duplicate:
            record("dup " + msg_id)
        else:
            record("ok " + msg_id)  # ...handle `event` here...
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        pass  # keep stderr quiet


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
