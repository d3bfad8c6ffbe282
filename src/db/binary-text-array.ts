/*
 * A text[] parameter in PostgreSQL's binary format (array_send): a header
 * (one dimension, no nulls, element type text), the dimension's length and
 * lower bound, then each element as its byte length and its UTF-8 bytes.
 *
 * pg sends a Buffer parameter in binary format, so large texts (a batch's
 * payloads) go as they are: no array-literal escaping on the way in (pg's
 * or ours) and, on the way out, no parsing of an array literal or of one
 * JSON array holding them all (json_array_elements read the whole array
 * once to check it and once to split it). PGlite takes no binary
 * parameters: PgliteDb names the parameters made here (and only those: a
 * Buffer for a bytea stays one) and its thread reads them back into strings.
 */

const TEXT_OID = 25;
const HEADER_BYTES = 20;
/** The values binaryTextArray made, told apart from other Buffers by identity, not by their bytes. */
const made = new WeakSet<Uint8Array>();

/** The texts as a binary text[] value. Texts must hold no NUL (PostgreSQL text cannot). */
export function binaryTextArray(texts: readonly string[]): Buffer {
  let size = HEADER_BYTES + 4 * texts.length;
  for (const t of texts) size += Buffer.byteLength(t);
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no nulls
  out.writeInt32BE(TEXT_OID, 8);
  out.writeInt32BE(texts.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = HEADER_BYTES;
  for (const t of texts) {
    const n = out.write(t, at + 4, 'utf8');
    out.writeInt32BE(n, at);
    at += 4 + n;
  }
  made.add(out);
  return out;
}

/** The positions of the parameters binaryTextArray made. */
export function binaryTextArraysIn(params: readonly unknown[]): number[] {
  const at: number[] = [];
  params.forEach((p, i) => {
    if (p instanceof Uint8Array && made.has(p)) at.push(i);
  });
  return at;
}

/** The texts of a value binaryTextArray made. */
export function readBinaryTextArray(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  const out: string[] = new Array(view.getInt32(12));
  let at = HEADER_BYTES;
  for (let i = 0; i < out.length; i++) {
    const n = view.getInt32(at);
    out[i] = utf8.decode(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
