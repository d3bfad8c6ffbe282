import { errors } from '../errors.js';

/** Checks of list filters that JSON Schema cannot express; each throws a 400 naming the field. */

/** A time range must not end before it starts (an empty range is a mistake, not a query). */
export function checkRange(since: string | undefined, until: string | undefined): void {
  if (since && until && Date.parse(until) <= Date.parse(since)) throw errors.invalidField('until', 'must be after since');
}

/** `payloadField` and `payloadValue` go together; the field becomes a JSON path. */
export function payloadFilter(field: string | undefined, value: string | undefined): { path: string[]; value: string } | undefined {
  if (field === undefined && value === undefined) return undefined;
  if (field === undefined) throw errors.invalidField('payloadField', 'is required with payloadValue');
  if (value === undefined) throw errors.invalidField('payloadValue', 'is required with payloadField');
  return { path: field.split('.'), value };
}
