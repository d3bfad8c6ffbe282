import type { Command } from 'commander';
import type { RelayedDelivery, RelayReport } from '../../listen/streams.js';
import { apiCommand, listFlag, str } from '../action.js';
import { usageError } from '../exit-codes.js';
import { Forwarder } from '../listen/forwarder.js';
import { Listener, type ListenOutput, type SessionInfo } from '../listen/listener.js';
import { print, printJsonLine } from '../output.js';

/** How long Ctrl-C waits for deliveries being forwarded to be reported. (Default: 2 s) */
const STOP_WAIT_MS = 2_000;

/** `herald listen --forward-to <url> [--events <patterns>]` */
export function listenCommand(program: Command): void {
  const cmd = apiCommand(
    program,
    {
      name: 'listen',
      description: "forward a tenant's deliveries to a local URL (development): prints the signing secret, then a line per delivery",
      example: "herald listen --forward-to http://localhost:3000/webhooks --events 'campaign.*,offer.removed' --tenant acme",
    },
    async (ctx, _args, flags) => {
      const forwardTo = localUrl(str(flags.forwardTo));
      const eventTypes = listFlag(flags.events) ?? null;
      const tenantId = await ctx.tenant();
      const forwarder = new Forwarder(forwardTo);
      const listener = new Listener(ctx.api, tenantId, { forwardTo, eventTypes }, forwarder, ctx.json ? jsonOutput() : humanOutput(tenantId, forwardTo, eventTypes));
      const stop = () => {
        listener.stop();
        setTimeout(() => process.exit(0), STOP_WAIT_MS).unref();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await listener.run();
      } finally {
        await forwarder.close();
      }
    },
  )
    .requiredOption('--forward-to <url>', 'the local URL each delivery is POSTed to, e.g. http://localhost:3000/webhooks')
    .option('--events <patterns>', "only these event types, comma-separated: names or patterns such as 'campaign.*' (default: all)");
  const json = cmd.options.find((o) => o.long === '--json');
  if (json) json.description = 'print the session and each delivery as one JSON object per line';
}

function localUrl(raw: string | undefined): string {
  let u: URL;
  try {
    u = new URL(raw ?? '');
  } catch {
    throw usageError(`--forward-to: ${raw} is not a URL (e.g. http://localhost:3000/webhooks)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--forward-to: ${raw} is not an http(s) URL`);
  return u.toString();
}

/** `HH:MM:SS` of now, UTC, as the delivery lines start. */
const clock = () => new Date().toISOString().slice(11, 19);

function outcomeOf(r: RelayReport): { status: string; ms: number; note: string } {
  if ('error' in r) return { status: r.error.code, ms: r.durationMs, note: r.error.message };
  return { status: String(r.status), ms: r.durationMs, note: '' };
}

function humanOutput(tenantId: string, forwardTo: string, eventTypes: string[] | null): ListenOutput {
  return {
    session(s: SessionInfo, first: boolean) {
      print(`${first ? '' : 'New session (the old one ended): '}Signing secret: ${s.secret}`);
    },
    ready(s: SessionInfo) {
      print(
        `Forwarding ${eventTypes ? eventTypes.join(', ') : 'all'} events of tenant ${tenantId} to ${forwardTo} ` +
          `(session ${s.id}${s.resumed ? ', resumed' : ''}, endpoint ${s.endpointId}). Ready; Ctrl-C to stop, the session waits ${s.graceSeconds} s for you to come back.`,
      );
    },
    delivery(d: RelayedDelivery, r: RelayReport) {
      const o = outcomeOf(r);
      print([clock(), d.eventType ?? '-', d.deliveryId ?? d.eventId, o.status, `${o.ms} ms`, o.note].filter(Boolean).join('  '));
    },
    notice(message: string) {
      process.stderr.write(`herald: ${message}\n`);
    },
  };
}

function jsonOutput(): ListenOutput {
  return {
    // one line per session once its stream is connected, secret included: a script may send events from then on
    session() {},
    ready(s: SessionInfo) {
      printJsonLine({ type: 'session', sessionId: s.id, endpointId: s.endpointId, secret: s.secret, resumed: s.resumed, graceSeconds: s.graceSeconds });
    },
    delivery(d: RelayedDelivery, r: RelayReport) {
      const o = outcomeOf(r);
      printJsonLine({
        type: 'delivery', at: new Date().toISOString(), eventType: d.eventType, deliveryId: d.deliveryId, eventId: d.eventId,
        status: 'status' in r ? r.status : null, error: 'error' in r ? r.error : null, durationMs: o.ms,
      });
    },
    notice(message: string) {
      process.stderr.write(`herald: ${message}\n`);
    },
  };
}
