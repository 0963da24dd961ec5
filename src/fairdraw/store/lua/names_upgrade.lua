-- names_upgrade: turn a name bucket still in the earlier form (a string of
-- "name<TAB>index<LF>" lines) into the list the search reads; nothing for a list.
-- KEYS[1] the bucket.  Returns {"ok"}.
fd_names_upgrade(KEYS[1])
return {'ok'}
