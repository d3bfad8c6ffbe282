import type { Dispatcher } from 'undici';
import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import { startSend } from '../delivery/sender.js';
import { claimDueAlerts, detectAlerts, markAlertsFailed, markAlertsSent, pruneAlerts } from '../store/alerts.js';
import { slackMessage } from './slack-message.js';

export interface AlertMonitorOptions {
  db: Db;
  logger: Logger;
  /** SSRF-safe: the alert URL is held to the endpoints' address policy on every connect. */
  dispatcher: Dispatcher;
  /** The Slack-compatible incoming webhook. */
  url: string;
  /** Consecutive failed attempts that make an endpoint failing. */
  afterFailures: number;
  /** Time between passes, in seconds: at most one message per pass. */
  intervalSeconds: number;
  /** Longest one POST may take, in milliseconds. */
  timeoutMs: number;
  /** `User-Agent` of the POST. */
  userAgent: string;
}

/** Alerts that fit one message; the rest wait for the next pass. (Default: 50) */
const PER_MESSAGE = 50;
/** Delay before a failed post is tried again, by attempts made, in seconds; the last repeats. */
const RETRY_SECONDS = [10, 30, 120, 600, 1800, 3600];
/** Posts of one alert before it is given up (about 3 h with RETRY_SECONDS). */
const MAX_ATTEMPTS = 8;
/** Alerts sent or given up are kept this long for the Operator page, in seconds (7 days). */
const KEEP_SECONDS = 7 * 86_400;

const STATES = { created: 'created', running: 'running', stopped: 'stopped' } as const;
type State = (typeof STATES)[keyof typeof STATES];

/**
 * Operator alerts, off the delivery path entirely: every `intervalSeconds`
 * a pass compares each endpoint's health (which the worker's record step
 * already keeps) with the state last announced, queues an alert per change
 * (alerts table: durable, so a crash or a failed post loses none), and
 * posts the due alerts as one Slack-compatible message with a timeout.
 * A failed post is tried again later on RETRY_SECONDS. The worker never
 * calls into this and never waits for it: a slow or dead alert receiver
 * costs one timer's pass, not a delivery.
 *
 * Rejected: alerting from the record step's effects statement, which knows
 * the moment a circuit opens. That is the queue core's hot path (another
 * statement or a send there would slow every failing batch), and recovery
 * (a success after failures) is only visible there for batches that carry
 * one; comparing states once per interval sees every change, coalesces a
 * wave of them into one message, and costs one scan of `endpoints`.
 */
export class AlertMonitor {
  private state: State = STATES.created;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: AlertMonitorOptions) {}

  start(): void {
    if (this.state !== STATES.created) throw new Error(`alert monitor cannot start from state ${this.state}`);
    this.state = STATES.running;
    this.timer = setInterval(() => void this.runOnce(), this.o.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One pass (detect, send, prune); a pass under way is joined, never run twice at once. */
  runOnce(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: Error) => this.o.logger.warn({ err: err.message }, 'alert pass failed; will try again'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const found = await detectAlerts(this.o.db, this.o.afterFailures);
    if (found > 0) this.o.logger.info({ alerts: found }, 'endpoint state changes queued for the alert webhook');
    // leased for longer than the post can take, so another worker's pass does not send them too
    const due = await claimDueAlerts(this.o.db, PER_MESSAGE, Math.ceil(this.o.timeoutMs / 1000) + 30);
    if (due.length > 0) await this.post(due);
    await pruneAlerts(this.o.db, KEEP_SECONDS);
  }

  private async post(due: Awaited<ReturnType<typeof claimDueAlerts>>): Promise<void> {
    const ids = due.map((a) => a.id);
    const res = await startSend(
      this.o.dispatcher,
      {
        url: this.o.url,
        headers: { 'content-type': 'application/json', 'user-agent': this.o.userAgent },
        body: JSON.stringify(slackMessage(due)),
        timeoutMs: this.o.timeoutMs,
      },
      1024,
    ).done;
    if (res.ok) {
      await markAlertsSent(this.o.db, ids);
      return;
    }
    const error = res.errorCode ? `${res.errorCode}: ${res.errorMessage ?? ''}` : `HTTP ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
    const made = Math.max(...due.map((a) => a.attempts)) + 1;
    const retryIn = RETRY_SECONDS[Math.min(made - 1, RETRY_SECONDS.length - 1)]!;
    this.o.logger.warn({ alerts: ids.length, error, retryInSeconds: retryIn }, 'alert webhook post failed; will try again');
    await markAlertsFailed(this.o.db, ids, error, Math.max(retryIn, this.o.intervalSeconds), MAX_ATTEMPTS);
  }

  /** Stops the timer and waits for a pass under way (its post is bounded by the timeout). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.state = STATES.stopped;
    await this.running;
  }
}
