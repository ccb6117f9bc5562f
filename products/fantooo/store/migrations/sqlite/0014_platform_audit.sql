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

-- Ids are text here; payment alerts were written with 16-byte blob ids,
-- which become the same UUID as text.
CREATE TEMP VIEW old_notice_ids AS
SELECT n.rowid AS rid,
       CASE WHEN typeof(n.id) = 'blob' THEN lower(substr(hex(n.id), 1, 8) || '-' || substr(hex(n.id), 9, 4) || '-' || substr(hex(n.id), 13, 4)
                                                || '-' || substr(hex(n.id), 17, 4) || '-' || substr(hex(n.id), 21, 12))
            ELSE n.id END AS id
FROM admin_notifications n;

-- Notices go to every admin, as before. Each gets a title from its kind;
-- the message is the body. Fantooo had one read flag for all admins: a
-- notice already read stays read for every admin that exists now.
INSERT INTO admin_notices (id, kind, title, body, link, recipient_id, recipient_role, created_at)
SELECT o.id, n.type,
       CASE n.type
         WHEN 'operator_suspended' THEN 'Operator suspended'
         WHEN 'chat_escalation' THEN 'Chat escalated'
         WHEN 'payment_failed' THEN 'Payment needs attention'
         WHEN 'high_refund_rate' THEN 'High refund rate'
         WHEN 'system_error' THEN 'System error'
         ELSE 'Security alert'
       END,
       n.message, NULL, NULL, NULL, n.created_at
FROM admin_notifications n JOIN old_notice_ids o ON o.rid = n.rowid;
INSERT INTO admin_notice_reads (notice_id, reader_id, read_at)
SELECT o.id, a.id, COALESCE(n.read_at, n.created_at)
FROM admin_notifications n JOIN old_notice_ids o ON o.rid = n.rowid CROSS JOIN admins a
WHERE n.is_read;

DROP VIEW old_notice_ids;

DROP TABLE admin_notifications;
DROP TABLE admin_activity_log;
