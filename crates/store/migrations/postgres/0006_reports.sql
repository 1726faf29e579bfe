-- Indexes for the transparency report and statistics (issue 7; DSA Art. 15, 24(1)).
-- The orders table looks up each order's confirmation of receipt; without this index that is a
-- scan of the whole outbox per order.
CREATE INDEX outbox_notice ON outbox (notice_id, topic);
CREATE INDEX notices_source_received ON notices (source, received_at);
CREATE INDEX appeals_received ON appeals (received_at);
CREATE INDEX appeals_decided ON appeals (decided_at);
CREATE INDEX content_items_created ON content_items (created_at);
