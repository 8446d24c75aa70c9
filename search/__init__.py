"""Search: one index interface (``search.contracts``), tantivy by default. A rebuildable cache
of the archive; imports archive/ only."""
