/** One server-sent event: its name (`message` when none was given) and its data lines joined. */
export interface ServerEvent {
  event: string;
  data: string;
}

/**
 * Reads a `text/event-stream` as its text arrives, in any pieces: events
 * end at a blank line, `event:` names one, `data:` lines add to it,
 * comment lines (`:`) and other fields are skipped (WHATWG HTML, 9.2).
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  push(text: string): ServerEvent[] {
    this.buffer += text;
    const out: ServerEvent[] = [];
    for (let nl = this.buffer.search(/\r\n|\r|\n/); nl !== -1; nl = this.buffer.search(/\r\n|\r|\n/)) {
      const line = this.buffer.slice(0, nl);
      // a lone \r at the end of the buffer may be the first half of \r\n: wait for more
      if (this.buffer[nl] === '\r' && nl === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      const done = this.line(line);
      if (done) out.push(done);
    }
    return out;
  }

  private line(line: string): ServerEvent | null {
    if (line === '') {
      const e = this.data.length > 0 ? { event: this.event || 'message', data: this.data.join('\n') } : null;
      this.event = '';
      this.data = [];
      return e;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    return null;
  }
}
