"""Self-contained offline folium maps of the plan and its conflicts."""

import logging

logging.getLogger("maps").addHandler(logging.NullHandler())
