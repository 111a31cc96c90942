"""Rules, the conflict engine, reports and the command line."""

import logging

logging.getLogger("analysis").addHandler(logging.NullHandler())
