import { Agent, type Dispatcher } from 'undici';
import type { RelayUrls } from './relay-urls.js';

/** A worker's dispatcher with its one exception to the SSRF policy, and how to close both. */
export interface RelayAwareDispatcher {
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/**
 * Wraps the worker's SSRF-safe dispatcher: a request to a relay URL minted
 * by RelayUrls (a `herald listen` session's temporary endpoint, which points
 * at Herald's own API) goes through a plain agent; everything else goes
 * through `safe` exactly as before. The worker itself is unchanged: it
 * sends to the endpoint URL like to any other.
 *
 * Why not an allow-listed address: the relay usually listens on loopback or
 * a private address, and allowing that address would let any endpoint whose
 * name resolves there reach it. The MAC in the URL ties the exception to
 * URLs Herald made, for the origin it made them for.
 */
export function relayAwareDispatcher(safe: Dispatcher, urls: RelayUrls): RelayAwareDispatcher {
  // A handful of connections: listen sessions are for development traffic.
  const relay = new Agent({ connections: 16, keepAliveTimeout: 10_000 });
  const dispatcher = safe.compose((dispatch) => (opts, handler) => {
    const origin = typeof opts.origin === 'string' ? opts.origin : (opts.origin?.origin ?? '');
    if (urls.isMinted(origin, opts.path)) return relay.dispatch(opts, handler);
    return dispatch(opts, handler);
  });
  return {
    dispatcher,
    async close() {
      await Promise.all([safe.close(), relay.close()]);
    },
  };
}
