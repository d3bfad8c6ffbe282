/**
 * Request bodies for the intake load, written as bytes from parts encoded
 * once: every event is the same but for its id. The load generator shares
 * the machine's two cores with what it measures, so its own cost per event
 * is taken from Herald's (and the floor's) share. Built as strings (a
 * template per event, a join per batch, then encoded again by the HTTP
 * client), a batch of 1,000 cost the bench about 15 µs of CPU per event,
 * a third of a core at the batch route's rate; a copy of the parts costs
 * a fraction of that. The bytes on the wire are what the strings made.
 */
export class EventBodies {
  private readonly head = Buffer.from('{"id":"');
  private readonly tail: Buffer;

  /** Events `{"id":…,"type":type,"payload":payloadJson}`; payloadJson is serialised JSON. */
  constructor(type: string, payloadJson: string) {
    this.tail = Buffer.from(`","type":${JSON.stringify(type)},"payload":${payloadJson}}`);
  }

  /** One event, as `POST …/events` takes it. */
  one(id: string): Buffer {
    const out = Buffer.allocUnsafe(this.eventBytes(id));
    this.write(out, 0, id);
    return out;
  }

  /** `{"events":[…]}` with one event per id, as `POST …/events/batch` takes it. */
  batch(ids: readonly string[]): Buffer {
    const open = '{"events":[';
    let size = open.length + 2 + Math.max(0, ids.length - 1);
    for (const id of ids) size += this.eventBytes(id);
    const out = Buffer.allocUnsafe(size);
    let at = out.write(open, 0, 'latin1');
    ids.forEach((id, i) => {
      if (i > 0) out[at++] = 0x2c; // ,
      at = this.write(out, at, id);
    });
    out.write(']}', at, 'latin1');
    return out;
  }

  private eventBytes(id: string): number {
    // ids go in as they are, unescaped: only printable ASCII other than `"` and `\` is safe there
    if (!/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(id)) throw new Error(`bench event id ${JSON.stringify(id)} is not plain ASCII`);
    return this.head.length + id.length + this.tail.length;
  }

  private write(out: Buffer, at: number, id: string): number {
    at += this.head.copy(out, at);
    at += out.write(id, at, 'latin1');
    return at + this.tail.copy(out, at);
  }
}
