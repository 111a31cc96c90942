"""Rules, the conflict engine, reports and the command line."""
