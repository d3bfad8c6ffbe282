import { Agent, request } from 'undici';
import { classify } from '../../delivery/sender.js';
import type { RelayedDelivery, RelayReport } from '../../listen/streams.js';

/** Bytes of the local receiver's answer passed back to Herald, which keeps no more of an attempt's body. (Default: 64 KiB) */
export const ANSWER_BODY_CAP_BYTES = 64 * 1024;

/** Time kept back from the delivery's budget, so the report reaches Herald before its relay gives up. (Default: 300 ms) */
const REPORT_MARGIN_MS = 300;

/**
 * POSTs deliveries to the local receiver exactly as Herald's worker would
 * have sent them (same body bytes, same signed headers) and turns the
 * answer, or the failure, into the report Herald records as the attempt.
 * Uses undici's `request`, which adds only `host`, `content-length` and
 * `connection` (fetch would add accept, accept-encoding, sec-fetch-mode...).
 */
export class Forwarder {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

  constructor(readonly url: string) {}

  async forward(d: RelayedDelivery): Promise<RelayReport> {
    const started = performance.now();
    const timeoutMs = Math.max(100, d.timeoutMs - REPORT_MARGIN_MS);
    const ms = () => Math.round(performance.now() - started);
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: d.headers,
        body: d.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const body = await readCapped(res.body, ANSWER_BODY_CAP_BYTES);
      return { status: res.statusCode, headers: flat(res.headers), body: body.replaceAll('\0', '\uFFFD'), durationMs: ms() };
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const { code, message } = classify(err, timedOut, timeoutMs);
      return { error: { code, message: `${message} (${this.url})` }, durationMs: ms() };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The body as text, up to `cap` bytes; past that the rest is not read. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= cap) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, cap).toString('utf8');
}

function flat(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
