"""The effective policy of an organisation: the statement in force with its contract's overrides."""
