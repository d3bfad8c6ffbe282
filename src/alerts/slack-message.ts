import type { Alert } from '../store/alerts.js';

/** Alerts listed one by one in a message; the rest are counted. Slack allows 50 blocks. (Default: 20) */
export const MAX_LISTED = 20;

/** A Slack-compatible incoming-webhook body: `text` for every client (and notifications), `blocks` for Slack. */
export interface SlackMessage {
  text: string;
  blocks: { type: string; text?: { type: 'mrkdwn' | 'plain_text'; text: string }; elements?: { type: 'mrkdwn'; text: string }[] }[];
}

const HEADLINE: Record<Alert['kind'], string> = {
  failing: ':red_circle: Endpoint failing',
  disabled: ':no_entry: Endpoint disabled',
  recovered: ':large_green_circle: Endpoint recovered',
};

/** Slack mrkdwn treats `&`, `<` and `>` as markup: escaped so a URL or an error message cannot inject links or mentions. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** What went wrong last: the HTTP status, or the network error's code and message. */
function lastError(a: Alert): string {
  const d = a.detail;
  if (d.lastErrorCode) return `${d.lastErrorCode}${d.lastError ? `: ${d.lastError.slice(0, 300)}` : ''}`;
  if (d.lastStatus !== null) return `HTTP ${d.lastStatus}`;
  return 'no attempt on record';
}

/** One alert as a line of plain text (the `text` fallback) and as mrkdwn (a block). */
export function describe(a: Alert): { plain: string; mrkdwn: string } {
  const d = a.detail;
  const where = `${d.url} (tenant ${d.tenantName}, ${a.tenantId}; endpoint ${a.endpointId})`;
  let why: string;
  if (a.kind === 'recovered') why = 'delivering again: its last attempt succeeded';
  else if (a.kind === 'disabled') why = `${d.reason ?? 'disabled by Herald'}; last error ${lastError(a)}`;
  else why = `${d.consecutiveFailures} failed attempts in a row; last error ${lastError(a)}`;
  return {
    plain: `${HEADLINE[a.kind]}: ${where}: ${why}`,
    mrkdwn: `*${HEADLINE[a.kind]}*\n\`${esc(d.url)}\`\ntenant *${esc(d.tenantName)}* (\`${esc(a.tenantId)}\`) · endpoint \`${esc(a.endpointId)}\`\n${esc(why)}`,
  };
}

/**
 * One message for the alerts of a pass (oldest first): each is listed, up
 * to MAX_LISTED, so a wave of failures (a receiver network down) is one
 * message, not hundreds.
 */
export function slackMessage(alerts: Alert[]): SlackMessage {
  const listed = alerts.slice(0, MAX_LISTED).map(describe);
  const more = alerts.length - listed.length;
  const tail = more > 0 ? `… and ${more} more endpoint ${more === 1 ? 'change' : 'changes'} (see the Operator page)` : null;
  const text =
    alerts.length === 1
      ? `Herald: ${listed[0]!.plain}`
      : `Herald: ${alerts.length} endpoint changes\n${listed.map((l) => `• ${l.plain}`).join('\n')}${tail ? `\n${tail}` : ''}`;
  const blocks: SlackMessage['blocks'] = listed.map((l) => ({ type: 'section', text: { type: 'mrkdwn', text: l.mrkdwn } }));
  if (tail) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: tail }] });
  return { text, blocks };
}
