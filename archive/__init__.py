"""luutru's core: records, content-addressed blobs, signed manifests and their verification.

This package imports nothing else of luutru's; ingest/, search/, retention/ and api/ import it.

    from archive.home import ArchiveHome
    from archive.repository import Archive

    with Archive.open(ArchiveHome.resolve(None)) as archive:
        record = archive.get(record_id, clearance=AccessLevel.SECRET)
"""
