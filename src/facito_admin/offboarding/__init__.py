"""End of contract (GDPR art. 28(3)(g)): the organisation's full export, and the deletion of
its data after the return period, certified on Facito's own chain."""
