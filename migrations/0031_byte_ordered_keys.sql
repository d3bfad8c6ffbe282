-- Identifiers and keys compare byte by byte.
--
-- Every id, tenant, endpoint, event and delivery key Herald writes is ASCII
-- (a prefix and a time-ordered suffix, or a name the API checked), yet the
-- columns took the database's collation. Outside the "C" locale
-- (C.UTF-8, en_US.UTF-8 and the like: what initdb gives most servers)
-- PostgreSQL compares such text through strcoll with a locale lookup per
-- comparison, and a B-tree insert or probe makes a dozen or more of them:
-- in a CPU profile of the steady state (perf, whole machine, C.UTF-8) the
-- comparisons were a sixth of PostgreSQL's CPU (`_bt_compare`). With "C" they are
-- memcmp. Measured on this project's bench machine (C.UTF-8; a language's
-- locale such as en_US was not available to measure), alternated against the migration
-- before it: steady state, one `herald serve`, 3 pairs of 20 s runs, 0.282,
-- 0.289, 0.280 of the raw POST rate against 0.266, 0.270, 0.267; batch
-- intake 36,094, 35,287, 35,569 events/s against 34,588, 34,121, 33,365
-- (docs/benchmarks.md, twenty-fourth pass).
--
-- The order of ids is now their byte order, which for ASCII ids is also
-- their time order; names shown to people (tenant and endpoint
-- descriptions, event type names) keep the database's collation.
--
-- On an existing install the heap is not rewritten (a collation change of
-- text is binary compatible), but every index on these columns is rebuilt,
-- under an exclusive lock: 0.9 s for 200,000 deliveries and 20,000 events
-- on the bench machine, so seconds to tens of seconds for millions of rows
-- (docs/scaling.md); trim big attempts and deliveries tables with retention
-- first.

-- The columns: every text column named `id` or `..._id`, and the other
-- keys the queue and the API compare (ordering keys, lease tokens, token
-- hashes); one ALTER TABLE per table, so an index on two of them is
-- rebuilt once. test/byte-ordered-keys.test.ts holds later tables to it.
do $$
declare
  t record;
begin
  for t in
    select c.table_name,
           string_agg(format('alter column %I type text collate "C"', c.column_name), ', ' order by c.ordinal_position) as changes
      from information_schema.columns c
      join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name and tb.table_type = 'BASE TABLE'
     where c.table_schema = current_schema() and c.data_type = 'text'
       and (c.column_name = 'id' or c.column_name like '%\_id' or c.column_name in ('ordering_key', 'lease_token', 'token_hash'))
     group by c.table_name
  loop
    execute format('alter table %I %s', t.table_name, t.changes);
  end loop;
end
$$;
