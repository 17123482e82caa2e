"""The runners: they feed the sans-I/O core from the CRM store and the Graph client and apply its
plans (`push` drains the outbox, `pull` reads one mailbox's delta round). `calsync.sync.engine`
puts them behind one facade."""
