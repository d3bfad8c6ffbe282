-- Issue 14: ed25519 signatures (Standard Webhooks v1a).
--
-- The public key of an ed25519 endpoint's current signing key, `whpk_…`,
-- kept in the clear beside the sealed `whsk_` secret: it is no secret, and
-- lists, read-only tokens and the customer portal show it without
-- decrypting anything. Null for the HMAC schemes.
alter table endpoints add column public_key text;
