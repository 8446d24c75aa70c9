"""Peak memory of reading an edXML package: the streaming reader (``ingest.edxml.read``)
against the whole tree and attachments in memory as it was (``tests/ingest/edxml_reference``).

    python -m bench.edxml_memory            # also: python -m bench.run --only edxml

Each read runs in a child process of its own, timed with start-up, its peak RSS from
``wait4``; a child that only imports the readers gives the start-up's own RSS.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "edxml"
NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
MIB = 1 << 20
# Just under 1 MiB, a whole number of base64 lines of 76 (57 bytes): no padding in between.
PIECE = MIB // 57 * 57
# (name, attachment sizes in MiB)
PACKAGES = [
    ("one attachment of 50 MiB", [50]),
    ("six attachments, 4 to 24 MiB", [4, 8, 24, 8, 6, 10]),
]
READERS = ["startup", "in memory (before)", "streaming (now)"]


def write_package(path: Path, sizes_mib: list[int]) -> None:
    """A package whose attachments are random bytes, base64 in lines of 76 as mail writes it."""
    with path.open("wb") as out:
        out.write(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXML xmlns:edXML="{NS}">'.encode()
        )
        out.write(b"<edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>")
        out.write("<edXML:Subject>Về việc đo bộ nhớ</edXML:Subject>".encode())
        out.write(b"</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope>")
        out.write(b"<edXML:AttachmentEncoded>")
        for n, size in enumerate(sizes_mib):
            out.write(f"<edXML:Attachment><edXML:ContentId>cid:{n}</edXML:ContentId>".encode())
            out.write(f"<edXML:AttachmentName>phu-luc-{n}.bin</edXML:AttachmentName>".encode())
            out.write(b"<edXML:ContentTransferEncoded>\n")
            for _ in range(size):
                out.write(base64.encodebytes(os.urandom(PIECE)))
            out.write(b"</edXML:ContentTransferEncoded></edXML:Attachment>")
        out.write(b"</edXML:AttachmentEncoded></edXML:edXML>")


def child(reader: str, package: Path) -> None:
    """One read of ``package`` (in this process, whose RSS the parent measures)."""
    from ingest import edxml
    from tests.ingest import edxml_reference

    limit = 1 << 30
    if reader == "in memory (before)":
        # As ReadEdxml did: the file read whole, then parsed.
        with package.open("rb") as handle:
            document = edxml_reference.parse(handle.read(limit + 1), limit)
        assert document.attachments
    elif reader == "streaming (now)":
        work = package.with_suffix(".work")
        work.mkdir(exist_ok=True)
        with package.open("rb") as handle:
            streamed = edxml.read(handle, limit, work, max_read=limit + 1)
        assert streamed.attachments
        shutil.rmtree(work)


def _measure(reader: str, package: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child."""
    start = time.perf_counter()
    args = [sys.executable, "-m", "bench.edxml_memory", "--child", reader, str(package)]
    process = subprocess.Popen(args, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{reader} on {package} failed with status {status}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def table() -> tuple[list[str], list[list[str]], str]:
    WORK.mkdir(parents=True, exist_ok=True)
    columns = ["package", "MiB", "reader", "wall s", "peak RSS MiB", "over start-up MiB"]
    columns.append("over start-up ÷ package")
    rows = []
    for n, (name, sizes) in enumerate(PACKAGES):
        path = WORK / f"package-{n}.xml"
        write_package(path, sizes)
        size_mib = path.stat().st_size / MIB
        startup = 0.0
        for reader in READERS:
            seconds, peak = _measure(reader, path)
            startup = peak if reader == "startup" else startup
            over = peak - startup
            ratio = "-" if reader == "startup" else f"{over / size_mib:.2f}"
            row = [name, f"{size_mib:.0f}", reader, f"{seconds:.2f}", f"{peak:.0f}"]
            rows.append([*row, "-" if reader == "startup" else f"{over:.0f}", ratio])
        path.unlink()
    note = (
        "Each read is a child process of its own (`python -m bench.edxml_memory --child`), "
        "timed with start-up; peak RSS from `wait4`. 'startup' only imports the readers (and "
        "what `archive` imports with them): the other rows' peak less its own is what reading "
        "took. "
        "'in memory (before)' is the reader as it was (kept in "
        "`tests/ingest/edxml_reference.py`): the file read whole, the tree parsed whole, each "
        "attachment's text stripped of line breaks and decoded into bytes. 'streaming (now)' "
        "is `ingest.edxml.read`: the file fed to defusedxml's parser 64 KiB at a time, each "
        "attachment decoded into a work file (fsync'd) as it is parsed. Attachments are random "
        "bytes (base64 in lines of 76), the header one subject."
    )
    return columns, rows, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("READER", "PACKAGE"))
    options = parser.parse_args()
    if options.child:
        child(options.child[0], Path(options.child[1]))
        return
    columns, rows, note = table()
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{note}")


if __name__ == "__main__":
    main()
