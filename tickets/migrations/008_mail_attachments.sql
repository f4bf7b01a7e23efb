-- A customer's reply by e-mail carries attachments of its own (and the
-- mail itself, as a .eml): each attachment belongs to the message it came
-- with. The files of a filing belong to the ticket's first message.
ALTER TABLE ticket_attachments ADD COLUMN message_id INTEGER REFERENCES ticket_messages (id) ON DELETE CASCADE;
UPDATE ticket_attachments SET message_id =
    (SELECT min(m.id) FROM ticket_messages m WHERE m.ticket_id = ticket_attachments.ticket_id);
