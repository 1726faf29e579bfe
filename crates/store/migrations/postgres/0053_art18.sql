-- DSA Art. 18 (issue 12): notifications of suspected criminal offences involving a threat to the
-- life or safety of persons, sent to the configured law-enforcement contact through the outbox.
CREATE TABLE art18_notifications (
    id         TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES cases (id),
    grounds    TEXT NOT NULL,
    marked_by  TEXT NOT NULL,
    marked_at  BIGINT NOT NULL,
    outbox_id  TEXT NOT NULL
);
CREATE INDEX art18_case ON art18_notifications (case_id);
CREATE INDEX art18_marked ON art18_notifications (marked_at);
