// Herald receiver, Standard Webhooks ed25519 scheme (v1a), Node.js with node:crypto only.
// Run: PORT=3000 PUBLIC_KEY=whpk_... RESULTS_FILE=results.log node ed25519.mjs
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const { PORT = '3000', PUBLIC_KEY = '', RESULTS_FILE = 'results.log' } = process.env;
const TOLERANCE_SECONDS = 5 * 60;
// The endpoint's public key: the base64 after `whpk_` is the raw 32-byte ed25519 key.
const KEY = createPublicKey({
  key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(PUBLIC_KEY.replace(/^whpk_/, ''), 'base64').toString('base64url') },
  format: 'jwk',
});

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
  // The signed content: id, timestamp and the body's bytes exactly as received.
  const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), rawBody]);
  // "v1a,<sig> v1a,<sig>": one signature per live key while Herald rotates it.
  for (const candidate of signatures.split(' ')) {
    const [version, signature] = candidate.split(',');
    if (version !== 'v1a' || !signature) continue;
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length === 64 && verifySignature(null, content, KEY, bytes)) return null;
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
