import type { RelayedDelivery, RelayReport } from '../../listen/streams.js';
import type { ApiClient } from '../api-client.js';
import { seg } from '../api-client.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Forwarder } from './forwarder.js';
import { SseParser } from './sse-parser.js';

/** The session as `POST /listen-sessions` returns it. */
export interface SessionInfo {
  id: string;
  endpointId: string;
  secret: string;
  resumed: boolean;
  graceSeconds: number;
}

/** What the listener tells the person (or script) running it. */
export interface ListenOutput {
  /** A session was opened or taken up again (first, and whenever the secret changes). */
  session(s: SessionInfo, first: boolean): void;
  /** The session's stream is connected for the first time: deliveries flow from now on. */
  ready(s: SessionInfo): void;
  /** One line per delivery forwarded. */
  delivery(d: RelayedDelivery, report: RelayReport): void;
  /** Connection news (lost, reconnecting, back), one line each, on stderr. */
  notice(message: string): void;
}

/** Silence after which the stream counts as dead (the server sends a comment every 15 s). (Default: 45 s) */
export const IDLE_LIMIT_MS = 45_000;
/** Longest wait between reconnection attempts. (Default: 10 s) */
const MAX_BACKOFF_MS = 10_000;

const STATES = { created: 'created', running: 'running', stopping: 'stopping', stopped: 'stopped' } as const;
type State = (typeof STATES)[keyof typeof STATES];

/**
 * `herald listen`'s loop: opens (or resumes) a session, holds its event
 * stream, forwards each delivery and reports the answer, and reconnects
 * with backoff when the stream drops. Only the first connection's failures
 * end the command (wrong token, unreachable server); later ones are
 * retried, except a token that stops being accepted.
 */
export class Listener {
  private state: State = STATES.created;
  private abort: AbortController | null = null;
  private session: SessionInfo | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** The stream dropped and has not been back since. */
  private lost = false;
  /** The session whose readiness was announced last. */
  private announced: string | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly tenantId: string,
    private readonly request: { forwardTo: string; eventTypes: string[] | null },
    private readonly forwarder: Forwarder,
    private readonly out: ListenOutput,
  ) {}

  private get base(): string {
    return `/v1/tenants/${seg(this.tenantId)}/listen-sessions`;
  }

  /** Runs until stop(); throws a CliError when the first connection fails or the token is refused. */
  async run(): Promise<void> {
    this.state = STATES.running;
    await this.open();
    let failures = 0;
    while (this.state === STATES.running) {
      let why: string;
      try {
        const delivered = await this.stream();
        why = 'the server closed the stream';
        if (delivered) failures = 0;
      } catch (err) {
        if (err instanceof TakenOver || (err instanceof CliError && err.exitCode === EXIT.auth)) throw err;
        if (this.state !== STATES.running) break;
        why = err instanceof CliError ? err.message : ((err as Error).message ?? String(err));
      }
      if (this.state !== STATES.running) break;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 5)) * (0.8 + Math.random() * 0.4);
      failures++;
      this.lost = true;
      this.out.notice(`connection lost (${why}); reconnecting in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
      await this.reopen();
    }
    await Promise.allSettled([...this.inFlight]);
    this.state = STATES.stopped;
  }

  /** Ends the stream; deliveries being forwarded are finished and reported first. */
  stop(): void {
    if (this.state !== STATES.running) return;
    this.state = STATES.stopping;
    this.abort?.abort();
  }

  /** Opens or resumes the session (same token, URL and event types: same session, same secret). */
  private async open(): Promise<void> {
    const s = await this.api.post<SessionInfo>(this.base, { forwardTo: this.request.forwardTo, eventTypes: this.request.eventTypes });
    const first = this.session === null;
    const changed = this.session !== null && this.session.id !== s.id;
    this.session = s;
    if (first || changed) this.out.session(s, first);
  }

  /**
   * open() during reconnection: a server that cannot be reached or fails
   * (5xx: restarting, database away) is tried again on the next round; a
   * refused token or a tenant that is gone ends the command.
   */
  private async reopen(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      if (err instanceof CliError && (err.exitCode === EXIT.unreachable || err.exitCode === EXIT.failure)) return;
      throw err;
    }
  }

  /** Holds the event stream until it ends; true when it carried at least its `ready` event. */
  private async stream(): Promise<boolean> {
    const session = this.session!;
    const abort = (this.abort = new AbortController());
    let idle = setTimeout(() => abort.abort(new Error(`nothing heard for ${IDLE_LIMIT_MS / 1000} s`)), IDLE_LIMIT_MS);
    try {
      const res = await this.api.open('GET', `${this.base}/${seg(session.id)}/stream`, { signal: abort.signal, accept: 'text/event-stream' });
      const parser = new SseParser();
      const decoder = new TextDecoder();
      let ready = false;
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(new Error(`nothing heard for ${IDLE_LIMIT_MS / 1000} s`)), IDLE_LIMIT_MS);
        for (const e of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (e.event === 'ready') {
            if (this.announced !== session.id) this.out.ready(session);
            else if (this.lost) this.out.notice(`reconnected (session ${session.id})`);
            this.announced = session.id;
            this.lost = false;
            ready = true;
          }
          if (e.event === 'replaced') {
            this.state = STATES.stopping;
            throw new TakenOver(session.id);
          }
          if (e.event === 'delivery') this.track(this.handle(session.id, JSON.parse(e.data) as RelayedDelivery));
        }
      }
      return ready;
    } catch (err) {
      if (err instanceof CliError && err.exitCode === EXIT.notFound) {
        // the session ended (not seen within its grace period): open a new one, with a new secret
        this.session = { ...session, id: '' };
        await this.open();
        return false;
      }
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      throw reason instanceof Error ? reason : new Error(String(reason));
    } finally {
      clearTimeout(idle);
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async handle(sessionId: string, d: RelayedDelivery): Promise<void> {
    const report = await this.forwarder.forward(d);
    this.out.delivery(d, report);
    try {
      await this.api.post(`${this.base}/${seg(sessionId)}/reports`, { relayId: d.relayId, ...report });
    } catch (err) {
      this.out.notice(`the answer to ${d.deliveryId ?? d.eventId} was not taken (${(err as Error).message}); Herald retries the delivery`);
    }
  }
}

/** Another `herald listen` of the same token, URL and event types connected to the session: this one stops (exit 1). */
class TakenOver extends CliError {
  constructor(sessionId: string) {
    super(`another herald listen with the same token, --forward-to and --events took over session ${sessionId}; this one stops`, EXIT.failure);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
