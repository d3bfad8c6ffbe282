import type { BrokerDestination } from '../delivery/destinations/types.js';
import type { SecretBox } from '../security/secret-box.js';
import { maskedDestination } from '../delivery/destinations/destination-url.js';

/** A destination as stored (endpoints.destination): its URL sealed like the endpoint secret. */
export type SealedDestination = BrokerDestination;

/** The destination to store: the URL, which may carry user:password, sealed. */
export function sealDestination(d: BrokerDestination | null, box: SecretBox): SealedDestination | null {
  return d === null ? null : { ...d, url: box.seal(d.url) };
}

/** The stored destination with its URL decrypted (the worker, and updates that keep it). */
export function openDestination(d: SealedDestination | null, box: SecretBox): BrokerDestination | null {
  return d === null ? null : { ...d, url: box.open(d.url) };
}

/** The destination as the API shows it: the URL's password masked, never decrypted for the response beyond this. */
export function publicDestination(d: SealedDestination | null, box: SecretBox): BrokerDestination | null {
  return d === null ? null : maskedDestination(openDestination(d, box)!);
}

/** Whether a stored destination was sealed with a key other than the current one (key rotation). */
export const destinationIsStale = (d: SealedDestination | null, box: SecretBox): boolean => d !== null && box.isStale(d.url);
