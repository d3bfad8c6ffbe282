-- Every worker asks for the endpoints whose circuit is open with its
-- heartbeat (every 5 s). Without an index that read every endpoint row;
-- the partial index holds only endpoints whose circuit has opened since
-- their last success (it is set back to null on one), so it stays small.
create index endpoints_circuit_open on endpoints (circuit_open_until) where circuit_open_until is not null;
