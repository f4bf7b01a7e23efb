-- A suggested event whose articles are [] is a draft with no good match:
-- nothing matched it, or nothing well enough to be shown (the drafting
-- floor, search.DraftFloor). below_floor tells the two apart: the number
-- of matching articles left out as too weak (0: nothing matched at all).
-- NULL on events from before it was recorded.
ALTER TABLE deflect_events ADD COLUMN below_floor INTEGER;
