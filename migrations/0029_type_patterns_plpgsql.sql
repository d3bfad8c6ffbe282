-- herald_type_patterns as PL/pgSQL, same rules as the SQL version of 0010.
--
-- A SQL function that cannot be inlined (this one has a sub-select) is
-- parsed and planned again in every statement that calls it: the publish
-- statement's `types` step took about 1 ms for a single event, half of the
-- statement's execution and about a quarter of an idle publish's answer
-- (EXPLAIN ANALYZE of the publish statement, a warm session). PL/pgSQL
-- keeps its compiled body and plans for the session: 15-18 µs a call.
create or replace function herald_type_patterns(t text) returns text[]
language plpgsql immutable parallel safe as $$
declare
  patterns text[] := array['*', t];
begin
  if t like 'webhook.%' then
    return array[t, 'webhook.*'];
  end if;
  if t = 'endpoint.disabled' then
    return array[t];
  end if;
  -- `prefix.*` for every prefix that ends in a dot
  for i in 1 .. length(t) loop
    if substr(t, i, 1) = '.' then
      patterns := patterns || (left(t, i) || '*');
    end if;
  end loop;
  return patterns;
end
$$;
