"""Alert rules over the analytics query layer, their alerts (firing / resolved) and the e-mails each transition sends once."""
