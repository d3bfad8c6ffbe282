// Herald receiver, Standard Webhooks scheme, Node.js with node:crypto only.
// Run: PORT=3000 SECRET=whsec_... RESULTS_FILE=results.log node standard.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const { PORT = '3000', SECRET = '', RESULTS_FILE = 'results.log' } = process.env;
const TOLERANCE_SECONDS = 5 * 60;
// The key is the base64 after the `whsec_` prefix, decoded to bytes.
const KEY = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');

function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Returns null when the request is authentic, else why it is not. */
function verify(headers, rawBody) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return 'missing_header';
  if (!/^\d+$/.test(timestamp)) return 'invalid_timestamp';
  const age = Math.floor(Date.now() / 1000) - Number(timestamp);
  if (age > TOLERANCE_SECONDS) return 'timestamp_too_old';
  if (age < -TOLERANCE_SECONDS) return 'timestamp_too_new';
  const expected = createHmac('sha256', KEY)
    .update(`${id}.${timestamp}.`)
    .update(rawBody) // the bytes exactly as received
    .digest('base64');
  // "v1,<sig> v1,<sig>": one signature per live secret while Herald rotates it.
  for (const candidate of signatures.split(' ')) {
    const [version, signature] = candidate.split(',');
    if (version === 'v1' && signature && safeEqual(signature, expected)) return null;
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
