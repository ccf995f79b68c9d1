-- +goose Up
-- What operators did (retry or discard a dead letter, …), by whom and why.
CREATE TABLE operator_action (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX operator_action_target ON operator_action (target, id);

-- +goose Down
DROP TABLE operator_action;
