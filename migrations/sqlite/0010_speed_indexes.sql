-- The annual report reads the complaints of one period by received_at, oldest first: an
-- index range scan instead of reading and sorting the whole table (issue 14).
CREATE INDEX complaints_received ON complaints (received_at, id);

-- The auto-reply limit counts a sender's automatic replies of the last day for every
-- incoming mail. With auto_reply in the index the count reads the index alone, instead of
-- looking up every earlier reply's row (raw mail included) in the table (issue 14).
CREATE INDEX outbox_auto_replies ON outbox (recipients, auto_reply, created_at);
