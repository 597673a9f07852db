-- The annual report reads the complaints of one period by received_at, oldest first: an
-- index range scan instead of reading and sorting the whole table (issue 14).
CREATE INDEX complaints_received ON complaints (received_at, id);
