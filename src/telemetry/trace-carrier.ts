import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** Reads `traceparent`/`tracestate` from request headers or a stored trace context (lower-case keys, as Node gives them). */
export const fromCarrier: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

/** Writes them into a plain object: the stored trace context, or a webhook request's headers. */
export const toCarrier: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
