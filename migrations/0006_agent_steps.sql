-- The agent's journal: each model response that asked for tools, and each
-- tool call with its result, keyed by the inbound message the turn answers.
-- A tool's step is written in the transaction of the tool's own effect, so
-- a turn retried after a crash replays what is recorded instead of running
-- the tool again. The steps of a turn are deleted with its stored reply.
create table agent_steps (
    id         bigint generated always as identity primary key,
    user_id    uuid not null references users (id) on delete cascade,
    message_id uuid not null references messages (id) on delete cascade,
    -- the model call of the turn this step belongs to, from 0
    round      integer not null check (round >= 0),
    kind       text not null check (kind in ('model', 'tool')),
    -- the function call's position in the model's response (0 for 'model')
    call_index integer not null default 0 check (call_index >= 0),
    name       text,
    arguments  jsonb,
    result     jsonb not null,
    created_at timestamptz not null default now(),
    -- a racing second run of the same call fails here, rolling back its effect
    unique (user_id, message_id, round, kind, call_index)
);

alter table agent_steps enable row level security;
alter table agent_steps force row level security;
create policy user_isolation on agent_steps
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
