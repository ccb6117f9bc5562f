-- Fantooo's admin activity log and admin notifications move onto the
-- platform's audit tables (platform-audit's migration 130, which runs just
-- before this one): existing rows are copied, then the old tables go.
--
-- The log: an entry without an admin was written by the system. Fantooo
-- recorded no reasons. Entries keep their order (and so their seq order).
INSERT INTO audit_entries (actor_kind, actor_id, action, subject_kind, subject_id, before_value, after_value, reason, ip, at)
SELECT CASE WHEN admin_id IS NULL THEN 'system' ELSE 'admin' END, admin_id, action, entity_type, entity_id,
       before_value, after_value, NULL, ip_address, created_at
FROM admin_activity_log ORDER BY seq;

-- Notices go to every admin, as before. Each gets a title from its kind;
-- the message is the body. Fantooo had one read flag for all admins: a
-- notice already read stays read for every admin that exists now.
INSERT INTO admin_notices (id, kind, title, body, link, recipient_id, recipient_role, created_at)
SELECT id, type,
       CASE type
         WHEN 'operator_suspended' THEN 'Operator suspended'
         WHEN 'chat_escalation' THEN 'Chat escalated'
         WHEN 'payment_failed' THEN 'Payment needs attention'
         WHEN 'high_refund_rate' THEN 'High refund rate'
         WHEN 'system_error' THEN 'System error'
         ELSE 'Security alert'
       END,
       message, NULL, NULL, NULL, created_at
FROM admin_notifications;
INSERT INTO admin_notice_reads (notice_id, reader_id, read_at)
SELECT n.id, a.id, COALESCE(n.read_at, n.created_at)
FROM admin_notifications n CROSS JOIN admins a
WHERE n.is_read;

DROP TABLE admin_notifications;
DROP TABLE admin_activity_log;
