// Herald receiver, any scheme, Node.js with @herald/verify (from a tarball today: see the README's "Installing outside the clone").
// Run: PORT=3000 SECRET=whsec_... RESULTS_FILE=results.log node verify.mjs
//  or: PORT=3000 SECRET=... SCHEME=hmac-sha256 HEADER=X-AdFlow-Signature ENCODING=hex RESULTS_FILE=results.log node verify.mjs
//  or: PORT=3000 PUBLIC_KEY=whpk_... SCHEME=ed25519 RESULTS_FILE=results.log node verify.mjs
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { MemoryIdempotencyStore, onceOnly, verifyNodeRequest, WebhookVerificationError } from '@herald/verify';

const { PORT = '3000', SECRET = '', PUBLIC_KEY = '', SCHEME = 'standard', HEADER, ENCODING = 'hex', RESULTS_FILE = 'results.log' } = process.env;
const options =
  SCHEME === 'hmac-sha256'
    ? { scheme: 'hmac-sha256', header: HEADER, encoding: ENCODING }
    : { scheme: SCHEME === 'ed25519' ? 'ed25519' : 'standard', toleranceSeconds: 5 * 60 };
// ed25519 endpoints are verified with their public key (whpk_...), never a secret.
const KEY = SCHEME === 'ed25519' ? PUBLIC_KEY : SECRET;

// Herald delivers at least once: claim each webhook-id once (PostgresIdempotencyStore shares claims across instances).
const store = new MemoryIdempotencyStore();

createServer(async (req, res) => {
  try {
    const webhook = await verifyNodeRequest(req, KEY, options); // reads the raw body itself
    // The standard scheme signs the id; header-HMAC does not, but Herald sends it anyway.
    const id = webhook.id ?? req.headers['webhook-id'];
    if (!id) throw new WebhookVerificationError('missing_header', 'webhook-id is missing', { header: 'webhook-id' });
    const result = await onceOnly(store, id, async () => {
      // ...handle webhook.payload here; if this throws, the claim is released and Herald retries...
    });
    appendFileSync(RESULTS_FILE, `${result.duplicate ? 'dup' : 'ok'} ${id}\n`);
    res.writeHead(204).end();
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) {
      res.writeHead(500).end();
      return;
    }
    appendFileSync(RESULTS_FILE, `bad ${error.code}\n`);
    res.writeHead(400).end();
  }
}).listen(Number(PORT), '127.0.0.1');
