-- SMS compliance: which word opted a number out (a "cancel" gets a note on
-- how to cancel one reminder when the person comes back), and numbers the
-- carrier reported unreachable, unknown or landline (30003/30005/30006):
-- nothing is sent to them until an inbound text proves them reachable again.

alter table user_phone_numbers
    add column opted_out_via text check (length(opted_out_via) between 1 and 40),
    add column unreachable_at timestamptz,
    add column unreachable_reason text
        check (unreachable_reason in ('unreachable', 'unknown_number', 'landline')),
    add column unreachable_code text check (length(unreachable_code) between 1 and 10),
    add constraint user_phone_numbers_unreachable_together
        check ((unreachable_at is null) = (unreachable_reason is null));
