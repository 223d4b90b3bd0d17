-- ogmem copy walks every account that has sessions (an account may have buffered sessions and
-- no node yet): one more statement that spans accounts on purpose, as the owner (see 0002).
CREATE FUNCTION ogmem_session_account_ids(p_after text)
RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT account_id FROM sessions WHERE account_id > p_after ORDER BY account_id;
$$;

REVOKE ALL ON FUNCTION ogmem_session_account_ids(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ogmem_session_account_ids(text) TO ogmem_app;
