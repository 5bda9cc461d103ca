"""Where rows come from (formats/), what their columns are for (roles, the first pass), where they are held
(rows) and in which order they are visited (batching, views)."""
