"""Where rows come from (sources) and in which order they are visited (batching)."""
