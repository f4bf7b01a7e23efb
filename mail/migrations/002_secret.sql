-- A secret (a ticket's private link) goes into the mail only when it is
-- sent, in place of SecretMark in the bodies, and is forgotten once the
-- mail is sent: the outbox never keeps a ticket's token.
ALTER TABLE mail_outbox ADD COLUMN secret TEXT;
