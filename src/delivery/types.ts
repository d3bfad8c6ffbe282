/** How deliveries to an endpoint are signed. */
export type SignatureConfig =
  | { scheme: 'standard' }
  /** Standard Webhooks' asymmetric scheme: `v1a` ed25519 signatures; the secret is a `whsk_` key. */
  | { scheme: 'ed25519' }
  | {
      scheme: 'hmac-sha256';
      /** Header that carries the signature, e.g. `X-AdFlow-Signature`. */
      header: string;
      /** Encoding of the HMAC. (Default: hex) */
      encoding: 'hex' | 'base64';
    };

/** When failed deliveries to an endpoint are tried again. */
export type RetryPolicy =
  | {
      /** Delays in seconds before each retry: `[30, 60, 300]` = 3 retries, 4 attempts in all. */
      schedule: number[];
      /** Extra random delay as a fraction of each delay, only ever added, so a retry is never early. (Default: 0.1) */
      jitter?: number;
    }
  | {
      backoff: 'exponential';
      /** Delay before the first retry, in seconds. */
      initialSeconds: number;
      /** Ceiling of any one delay, in seconds. */
      maxSeconds: number;
      /** Number of retries after the first attempt. */
      maxRetries: number;
      /** Growth factor between delays. (Default: 2) */
      factor?: number;
      /** See above. (Default: 0.1) */
      jitter?: number;
    };

/** A previous secret that still signs until `expiresAt` (secret rotation). */
export interface OldSecret {
  secret: string;
  expiresAt: string;
}
