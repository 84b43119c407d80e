-- The webhook's own SQL for a known sender, as one transaction: identify
-- the number, scope to the person, store the message, enqueue its job.
-- Run by bench/webhook.sh with pgbench (-D uid=<user id>).
\set r random(1, 1000000000000)
BEGIN;
SELECT nudge_user_id_for_phone('+15145550000');
SELECT set_config('app.user_id', :uid, true);
SELECT id, status FROM users WHERE id = :uid;
SELECT opted_out_at FROM user_phone_numbers WHERE e164 = '+15145550000';
INSERT INTO messages (user_id, direction, body, phone_e164, provider_message_id, media, status)
VALUES (:uid, 'inbound', 'add milk and eggs', '+15145550000', 'PG' || :client_id || '-' || :r::text, '[]', 'received')
ON CONFLICT (provider_message_id) DO NOTHING RETURNING id;
SELECT nudge_log_identification('+15145550000', :uid, 'matched', 'PG' || :client_id || '-' || :r::text);
INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority)
VALUES (apalis.generate_ulid(), 'bench_agent_turn', convert_to('{"user_id":"x"}', 'UTF8'), 'Pending', 0, 10, now(), 0);
COMMIT;
