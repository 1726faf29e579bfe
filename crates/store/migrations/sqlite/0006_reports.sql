-- Indexes for the transparency report and statistics (issue 7; DSA Art. 15, 24(1)).
-- The orders table looks up each order's confirmation of receipt; without this index that is a
-- scan of the whole outbox per order.
CREATE INDEX outbox_notice ON outbox (notice_id, topic);
CREATE INDEX notices_source_received ON notices (source, received_at);
CREATE INDEX appeals_received ON appeals (received_at);
CREATE INDEX appeals_decided ON appeals (decided_at);
CREATE INDEX content_items_created ON content_items (created_at);

-- Each notice's first decision (not one that replaced another after an appeal), kept when the
-- decision is recorded: time to action is then a join by key, not a search per notice.
ALTER TABLE notices ADD COLUMN first_decision_id TEXT;
ALTER TABLE notices ADD COLUMN first_decided_at INTEGER;
CREATE INDEX notices_first_decided ON notices (first_decided_at);
