import { compileFilter } from './compile-filter.js';
import { parseFilter, type FilterNode } from './parse-filter.js';

/** An endpoint's filter as the API shows it: a JSON object, or null for none. */
export type EndpointFilter = Record<string, unknown> | null;

/** The columns an endpoint's filter is stored in (migration 0023). */
export interface FilterColumns {
  filter: string | null;
  filter_path: string | null;
  filter_vars: string | null;
}

/**
 * The stored form of a filter the API has checked (parseFilter): the filter
 * itself, its jsonpath and variables as JSON text. An empty filter is no
 * filter. Throws FilterError for a filter that was not checked.
 */
export function filterColumns(filter: EndpointFilter): FilterColumns {
  const tree: FilterNode | null = filter === null ? null : parseFilter(filter);
  if (!tree) return { filter: null, filter_path: null, filter_vars: null };
  const c = compileFilter(tree);
  return { filter: JSON.stringify(filter), filter_path: c.path, filter_vars: JSON.stringify(c.vars) };
}
