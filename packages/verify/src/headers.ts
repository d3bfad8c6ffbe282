/** Anything with a `get` like the web `Headers` class (or a `Map`). */
export interface HeadersGetter {
  get(name: string): string | null | undefined;
}

/** A Node `IncomingHttpHeaders`-style record, or a plain one; keys in any case. */
export type HeadersRecord = { readonly [name: string]: string | readonly string[] | number | undefined | null };

/** Web `Headers`, Node `req.headers`, or a plain object. */
export type HeadersLike = HeadersGetter | HeadersRecord;

/**
 * The value of a header, looked up case-insensitively; repeated values are
 * joined with `separator`. `undefined` when absent or blank.
 */
export function getHeader(headers: HeadersLike, name: string, separator = ', '): string | undefined {
  const lower = name.toLowerCase();
  let raw: unknown;
  if (typeof (headers as HeadersGetter).get === 'function') {
    raw = (headers as HeadersGetter).get(lower);
  } else {
    const record = headers as HeadersRecord;
    raw = Object.prototype.hasOwnProperty.call(record, lower) ? record[lower] : undefined;
    if (raw === undefined) {
      for (const key of Object.keys(record)) {
        if (key.toLowerCase() === lower) {
          raw = record[key];
          break;
        }
      }
    }
  }
  let value: string | undefined;
  if (typeof raw === 'string') value = raw;
  else if (typeof raw === 'number') value = String(raw);
  else if (Array.isArray(raw)) value = raw.filter((v): v is string => typeof v === 'string').join(separator);
  value = value?.trim();
  return value ? value : undefined;
}
