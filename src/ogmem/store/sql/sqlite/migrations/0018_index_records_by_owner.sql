-- The vector cache loads one owner's records at a time (ogmem.index.vectors: an account of a
-- thousand users is a thousand small matrices, not one large one): a B-tree on (account,
-- owner) reads those records without scanning the rest of the account.
CREATE INDEX index_records_by_owner ON index_records (account_id, owner_space);
