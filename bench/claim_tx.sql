-- The ceiling for handing due work off on this machine: claim the 100
-- earliest due rows no one else holds (FOR UPDATE SKIP LOCKED) and mark
-- them, one transaction per batch. Run by bench/all.sh with pgbench against
-- a table of its own (bench_claim); rows per second = tps x 100.
WITH c AS (
    SELECT id FROM bench_claim WHERE NOT claimed AND due_at <= now()
    ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED
)
UPDATE bench_claim b SET claimed = true FROM c WHERE b.id = c.id;
