-- A mail may carry several secrets (the "ticket filed" mail: the ticket's
-- link and the link that confirms the customer's address): a JSON array of
-- strings, the i-th put in place of SecretMarkN(i) when the mail is sent,
-- forgotten (NULL) once it is, like secret.
ALTER TABLE mail_outbox ADD COLUMN secrets TEXT CHECK (secrets IS NULL OR json_valid(secrets));
