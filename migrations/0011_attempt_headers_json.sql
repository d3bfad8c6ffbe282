-- Attempt headers are written once and read back whole (the delivery
-- detail page); nothing queries inside them. As json they are stored as the
-- text the worker sent, checked by a lexer only, instead of being taken
-- apart into jsonb: building the jsonb of two header objects per attempt
-- was 38 µs of the outcome statement's CPU per delivery, more than the
-- rest of the statement.
alter table attempts
  alter column request_headers type json using request_headers::json,
  alter column response_headers type json using response_headers::json;
