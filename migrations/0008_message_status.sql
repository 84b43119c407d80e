-- messages.status was the one status column without a CHECK: only the
-- statuses of store::MessageStatus may be stored (a test compares this list
-- with the enum). Statuses written before the check that it does not know
-- are moved to the nearest known one that never causes a resend.

update messages set status = 'answered'
 where direction = 'inbound'
   and status not in ('received', 'rate_limited', 'keyword', 'opted_out', 'answered', 'ignored');
update messages set status = 'sent'
 where direction = 'outbound'
   and status not in ('generated', 'sending', 'suppressed', 'accepted', 'queued', 'scheduled',
                      'sent', 'delivered', 'undelivered', 'failed', 'canceled',
                      'partially_delivered', 'read');

alter table messages add constraint messages_status_known check (status in (
    'received', 'rate_limited', 'keyword', 'opted_out', 'answered', 'ignored',
    'generated', 'sending', 'suppressed',
    'accepted', 'queued', 'scheduled', 'sent', 'delivered', 'undelivered', 'failed',
    'canceled', 'partially_delivered', 'read'
));
