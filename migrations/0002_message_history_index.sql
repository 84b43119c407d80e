-- The conversation history is read newest first with `id` as tie-breaker;
-- an index with both keeps that a bounded index scan, whatever the length
-- of the person's history.
drop index messages_user_created_idx;
create index messages_user_created_id_idx on messages (user_id, created_at, id);
