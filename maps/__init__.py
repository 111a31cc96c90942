"""Self-contained offline folium maps of the plan and its conflicts."""
