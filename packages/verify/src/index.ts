export { WebhookVerificationError, type WebhookVerificationErrorCode } from './errors.js';
export type { HeadersGetter, HeadersLike, HeadersRecord } from './headers.js';
export { createVerifier, verify, type Scheme, type VerifiedWebhook, type Verifier, type VerifyOptions } from './verify.js';
export { signHmac, signStandard, signStandardHeaders, type SignatureEncoding } from './sign.js';

export { verifyRequest, type WebRequestLike } from './adapters/web.js';
export {
  DEFAULT_MAX_BYTES,
  readNodeRequest,
  verifyNodeRequest,
  type NodeRequestLike,
  type NodeVerifyOptions,
} from './adapters/node.js';
export { fastifyVerify, type FastifyRequestLike } from './adapters/fastify.js';
export {
  expressMiddleware,
  type ExpressMiddlewareOptions,
  type ExpressNext,
  type ExpressRequestLike,
  type ExpressResponseLike,
} from './adapters/express.js';

export {
  DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  onceOnly,
  type IdempotencyStore,
  type OnceOnlyResult,
} from './idempotency.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './memory-store.js';
export { PostgresIdempotencyStore, createTableSql, deleteExpiredSql, type PgQueryable } from './postgres-store.js';
