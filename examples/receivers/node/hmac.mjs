// Herald receiver, header-HMAC scheme (hmac-sha256), Node.js with node:crypto only.
// Run: PORT=3000 SECRET=... HEADER=X-AdFlow-Signature ENCODING=hex RESULTS_FILE=results.log node hmac.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const { PORT = '3000', SECRET = '', HEADER = 'X-AdFlow-Signature', ENCODING = 'hex', RESULTS_FILE = 'results.log' } = process.env;

function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Returns null when the request is authentic, else why it is not. */
function verify(headers, rawBody) {
  const name = HEADER.toLowerCase(); // node:http lower-cases header names
  const current = headers[name];
  if (!current || !headers['webhook-id']) return 'missing_header';
  // The key is the secret string's UTF-8 bytes; the HMAC covers the raw body only.
  const expected = createHmac('sha256', SECRET).update(rawBody).digest(ENCODING);
  // While Herald rotates the secret, the old secret's signature is in `<header>-previous`.
  const candidates = [current, ...(headers[`${name}-previous`] ?? '').split(' ')];
  for (const signature of candidates) {
    if (signature && safeEqual(signature, expected)) return null;
  }
  return 'no_matching_signature';
}

// Herald delivers at least once: remember processed ids (use your database in production).
const seen = new Set();

createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks);
    let problem = verify(req.headers, rawBody);
    let event;
    if (!problem) {
      try {
        event = JSON.parse(rawBody.toString('utf8')); // parse only after verifying
      } catch {
        problem = 'invalid_body';
      }
    }
    if (problem) {
      appendFileSync(RESULTS_FILE, `bad ${problem}\n`);
      res.writeHead(400).end();
      return;
    }
    const id = req.headers['webhook-id'];
    if (seen.has(id)) {
      appendFileSync(RESULTS_FILE, `dup ${id}\n`);
    } else {
      seen.add(id); // ...handle `event` here...
      appendFileSync(RESULTS_FILE, `ok ${id}\n`);
    }
    res.writeHead(204).end();
  });
}).listen(Number(PORT), '127.0.0.1');
