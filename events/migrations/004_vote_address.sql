-- The address a vote came from, as an HMAC of the address alone (an IPv6
-- client's /64) under the day's visitor salt, never the address itself: it
-- caps the voters counted per address and article (Store.Vote). Votes
-- stored before it have none and count against no address.
ALTER TABLE votes ADD COLUMN address TEXT;
CREATE INDEX votes_address ON votes (article_id, address);
