"""Groups of accounts within an organisation (provisioned by SCIM, usable by any edge)."""
