import type pg from 'pg';

/*
 * A PostgreSQL backend reads each protocol message whole into a buffer
 * twice the message's size, and frees it after the statement. glibc serves
 * an allocation above its mmap threshold (128 KiB at first) with a fresh
 * mapping and unmaps it on free, so every large statement touched all its
 * pages anew: a batch publish of 1,000 events of 1 KB (a 1.1 MB message)
 * took ~750 minor page faults in its backend, every time. glibc raises that
 * threshold to the size of the largest mapped block freed so far (up to
 * 32 MiB), and then keeps such blocks in its heap. One message larger than
 * any the connection will carry, sent when it opens, raises the threshold
 * once for the backend's life; its statements then reuse the heap's pages.
 *
 * Measured on this project's 2-core machine (docs/benchmarks.md, thirty-
 * fourth pass): a connection receiving a 1,000-event text[] parameter took
 * 9.4-10.0 µs of its backend's CPU per KB, 0.7-1.2 once primed. Herald's
 * batch statement for 1,000 events without ids, on 4 connections at once:
 * 38.2-38.3 µs of PostgreSQL CPU per event, 20.7-23.5 primed (with named
 * ids its allocations happen not to fault: 24.2-26.0 either way). A server
 * whose C library behaves otherwise pays one 4 MB statement per connection
 * for nothing.
 */

/** The message sent: a 4 MB parameter makes an 8 MB read buffer, above a batch route's statement (~2 MB for 1,000 events of 1 KB). */
const PRIMING_BYTES = 4 * 1024 * 1024;

/**
 * Runs the priming statement on a connection that just opened, before the
 * pool hands it out. A failure is the connection's own and is left to
 * whoever uses it next: priming only saves work. The zeros are made per
 * connection (about a millisecond) rather than kept: connections open at
 * start and after a reconnect, and 4 MB held for that would stay in every
 * process that publishes.
 */
export async function primeBackendHeap(client: pg.ClientBase): Promise<void> {
  await client.query({ text: 'select octet_length($1::bytea)', values: [Buffer.alloc(PRIMING_BYTES)] }).catch(() => undefined);
}
