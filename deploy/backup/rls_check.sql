-- Row-level-security catalog check (the same rules as tests/isolation.rs),
-- run by scripts/restore-drill on a restored database. One row per problem;
-- no rows means every person's table is walled off as on the source.
select 'table ' || c.relname || ' lacks enabled+forced RLS with an app.user_id policy' as problem
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p')
  and (c.relname = 'users' or exists (
        select 1 from pg_attribute a
        where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped))
  and not (c.relrowsecurity and c.relforcerowsecurity
       and exists (select 1 from pg_policy p where p.polrelid = c.oid
            and pg_get_expr(p.polqual, p.polrelid) like '%current_setting(''app.user_id''::text, true)%'))
union all
select 'view ' || c.relname || ' lacks security_invoker'
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname not in ('pg_catalog', 'information_schema') and c.relkind in ('v', 'm')
  and not coalesce(c.reloptions @> array['security_invoker=true'], false)
union all
select 'SECURITY DEFINER function ' || n.nspname || '.' || p.proname || ' has no fixed search_path'
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
  and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
union all
-- No table of a person's without RLS at all, whoever owns it.
select 'no table has row-level security: is this Nudge''s database?'
where not exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname = 'public' and c.relrowsecurity);
