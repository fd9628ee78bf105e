"""Where a backbone's weights come from: sources, medtl's cache, hubs, safe loading and the load report."""
