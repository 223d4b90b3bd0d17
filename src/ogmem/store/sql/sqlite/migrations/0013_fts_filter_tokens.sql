-- The full-text scope column also says each record's type, status and category (one token
-- each, the value's UTF-8 in hex: see sql_index.scope_text), so that a keyword search with a
-- filter (memories only, active only, some categories) ranks only the records it may return.
-- Before, FTS5 ranked every match of the reader's scopes, and when the filter left too few
-- (session archives and directory summaries match many words), the search ran again over
-- every match without a limit: most of the time of a LoCoMo search.
UPDATE index_records
SET scope = scope || ' k' || hex(context_type) || ' x' || hex(status) || ' c' || hex(category)
WHERE scope != '';
