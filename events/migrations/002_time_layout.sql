-- Times were RFC 3339 with as many fraction digits as needed (variable
-- width: text comparisons were off at second boundaries); now every stored
-- time is sqlitedb.TimeLayout, YYYY-MM-DDTHH:MM:SS.SSSZ.
UPDATE events SET at = strftime('%Y-%m-%dT%H:%M:%fZ', at) WHERE length(at) <> 24;
UPDATE votes SET at = strftime('%Y-%m-%dT%H:%M:%fZ', at) WHERE length(at) <> 24;
