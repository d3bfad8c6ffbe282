/** A shell word in single quotes: safe for any text (a quote inside becomes '\''). */
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The attempt's request as a curl command, to send it again by hand. The
 * signature headers are those of the original attempt: a receiver that
 * checks the timestamp's age will refuse it once it is old, as it should.
 */
export function curlCommand(url: string, headers: Record<string, string>, body: string | null): string {
  const lines = [`curl -X POST ${quote(url)}`];
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'content-length') continue;
    lines.push(`  -H ${quote(`${k}: ${v}`)}`);
  }
  if (body !== null) lines.push(`  --data-raw ${quote(body)}`);
  return lines.join(' \\\n');
}
