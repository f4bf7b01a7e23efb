-- The caps on answers to questions count per sender as one mailbox
-- receives them (lower-cased, "+ext" dropped), per domain and in all.
ALTER TABLE mailroute_questions ADD COLUMN sender_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mailroute_questions ADD COLUMN domain TEXT NOT NULL DEFAULT '';
UPDATE mailroute_questions SET sender_key = sender, domain = substr(sender, instr(sender, '@') + 1);
CREATE INDEX mailroute_questions_sender_key ON mailroute_questions (sender_key, created_at);
CREATE INDEX mailroute_questions_domain ON mailroute_questions (domain, created_at);
CREATE INDEX mailroute_questions_created ON mailroute_questions (created_at);
