/* Plain node:http (and anything handing you an IncomingMessage). */
import { WebhookVerificationError } from '../errors.js';
import { concatBytes } from '../encoding.js';
import { getHeader, type HeadersRecord } from '../headers.js';
import { verify, type VerifiedWebhook, type VerifyOptions } from '../verify.js';

/** Largest body read by default: 1 MiB, Herald's default largest event. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;

/** The parts of an `IncomingMessage` that are used (structural, so no node:http import). */
export interface NodeRequestLike {
  readonly headers: HeadersRecord;
  readonly readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  resume?(): unknown;
}

export interface NodeVerifyOptions extends VerifyOptions {
  /** Largest body accepted, in bytes. (Default: 1048576) */
  maxBytes?: number;
}

function checkMaxBytes(maxBytes: number): void {
  if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) {
    throw new TypeError('maxBytes must be a number >= 0');
  }
}

function tooLarge(maxBytes: number): WebhookVerificationError {
  return new WebhookVerificationError('invalid_body', `Body is larger than the ${maxBytes} bytes accepted`);
}

/**
 * Reads a request's whole body as bytes. Rejects with a
 * `WebhookVerificationError` (`invalid_body`) past `maxBytes`, checked
 * against `Content-Length` before reading and while reading; the rest of an
 * oversized body is drained so a response can still be sent.
 */
export function readNodeRequest(req: NodeRequestLike, maxBytes: number = DEFAULT_MAX_BYTES): Promise<Uint8Array> {
  checkMaxBytes(maxBytes);
  if (req.readableEnded) {
    return Promise.reject(new TypeError('the request body was already read (by a body parser?); the raw body is needed'));
  }
  const declared = getHeader(req.headers, 'content-length');
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
    };
    const onData = (chunk: unknown): void => {
      const bytes = chunk instanceof Uint8Array ? chunk : new TextEncoder().encode(String(chunk));
      size += bytes.length;
      if (size > maxBytes) {
        cleanup();
        req.resume?.(); // discard the rest
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(concatBytes(chunks));
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the request closed before its body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Reads the body of a node:http request ({@link readNodeRequest}) and verifies it. */
export async function verifyNodeRequest(
  req: NodeRequestLike,
  secret: string | readonly string[],
  options: NodeVerifyOptions = {},
): Promise<VerifiedWebhook> {
  const { maxBytes = DEFAULT_MAX_BYTES, ...verifyOptions } = options;
  const body = await readNodeRequest(req, maxBytes);
  return verify(body, req.headers, secret, verifyOptions);
}
