"""The outside of luutru: the read API, the web page and the `luutru` command line.
It wires ingest, search and retention to the archive and is imported by nothing."""
