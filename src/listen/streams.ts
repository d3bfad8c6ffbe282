import { randomUUID } from 'node:crypto';

/** One delivery as it is streamed to the CLI: the worker's request, byte for byte, and what to print. */
export interface RelayedDelivery {
  /** Names this hand-off; the CLI reports the answer under it. */
  relayId: string;
  deliveryId: string | null;
  eventId: string;
  eventType: string | null;
  /** The worker's request headers (signed), less those of HTTP's framing. */
  headers: Record<string, string>;
  body: string;
  /** How long the CLI has to answer, in milliseconds. */
  timeoutMs: number;
}

/** What the CLI reports: the local receiver's answer, or why there was none. */
export type RelayReport =
  | { status: number; headers: Record<string, string>; body: string; durationMs: number }
  | { error: { code: string; message: string }; durationMs: number };

/** How a relay ended, for the relay route to answer the worker with. */
export type RelayOutcome =
  | { kind: 'answered'; report: RelayReport }
  /** No stream of this session is open in this process. */
  | { kind: 'offline' }
  /** The stream closed before the CLI answered. */
  | { kind: 'disconnected' }
  | { kind: 'timeout'; timeoutMs: number };

/** The server's end of one CLI connection: an event stream. */
export interface EventSink {
  send(event: string, data: unknown): void;
  end(): void;
}

interface Attached {
  sink: EventSink;
  waiting: Map<string, (o: RelayOutcome) => void>;
}

/**
 * The CLI connections this API process holds, by session, and the relays
 * waiting for their answers. One connection per session: a newer one
 * replaces the older (the same command run again, or a reconnect that beat
 * the old socket's close), which is sent `replaced` and ended; its waiting
 * relays are answered `disconnected`.
 */
export class ListenStreams {
  private readonly sessions = new Map<string, Attached>();

  constructor(
    /** Hears the number of connections after each change (a metrics gauge). (Default: nothing) */
    private readonly onCount: (n: number) => void = () => undefined,
  ) {}

  /** Attaches `sink` to `sessionId`; the returned function detaches it (only if it is still the one attached). */
  attach(sessionId: string, sink: EventSink): () => void {
    const old = this.sessions.get(sessionId);
    if (old) {
      // told why, so that it stops instead of taking the session back (two CLIs would take turns for ever)
      old.sink.send('replaced', { sessionId });
      this.drop(sessionId, old, true);
    }
    const entry: Attached = { sink, waiting: new Map() };
    this.sessions.set(sessionId, entry);
    this.onCount(this.sessions.size);
    return () => {
      if (this.sessions.get(sessionId) === entry) this.drop(sessionId, entry, false);
    };
  }

  /** Ids of the sessions connected here. */
  connected(): string[] {
    return [...this.sessions.keys()];
  }

  /** Streams `delivery` to the session's CLI and waits up to `timeoutMs` for its report. */
  relay(sessionId: string, delivery: Omit<RelayedDelivery, 'relayId'>): Promise<RelayOutcome> {
    const entry = this.sessions.get(sessionId);
    if (!entry) return Promise.resolve({ kind: 'offline' });
    const relayId = randomUUID();
    return new Promise<RelayOutcome>((resolve) => {
      const timer = setTimeout(() => finish({ kind: 'timeout', timeoutMs: delivery.timeoutMs }), delivery.timeoutMs);
      const finish = (o: RelayOutcome) => {
        clearTimeout(timer);
        entry.waiting.delete(relayId);
        resolve(o);
      };
      entry.waiting.set(relayId, finish);
      entry.sink.send('delivery', { ...delivery, relayId });
    });
  }

  /** Hands the CLI's report to the relay waiting for it; false when none is (it timed out, or another process holds it). */
  report(sessionId: string, relayId: string, report: RelayReport): boolean {
    const finish = this.sessions.get(sessionId)?.waiting.get(relayId);
    if (!finish) return false;
    finish({ kind: 'answered', report });
    return true;
  }

  /** Ends every stream (the API is closing): waiting relays are answered `disconnected`. */
  closeAll(): void {
    for (const [id, entry] of [...this.sessions]) this.drop(id, entry, true);
  }

  private drop(sessionId: string, entry: Attached, end: boolean): void {
    this.sessions.delete(sessionId);
    this.onCount(this.sessions.size);
    for (const finish of [...entry.waiting.values()]) finish({ kind: 'disconnected' });
    if (end) entry.sink.end();
  }
}
