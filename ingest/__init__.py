"""Ingest: turn input files into sealed archive records (formats, OCR, metadata, batch runs).

Imports archive/ only. The ordered steps are in ``ingest.pipeline.PIPELINE``."""
