"""Integrity commands: `verify` (the archive, a bundle, or a file), `evidence`, `keys` and
`log`. Their statuses come from api/errors.py: 0 valid, 5 damaged, 2 usage."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from api.cli_common import HomeOption, JsonOption, err, opened, out, print_json, reported, shown
from api.errors import ExitCode
from api.services import Housekeeping, Services
from archive import log
from archive.blobstore import sha256_file
from archive.bundle import BundleError, BundleReport, pins_of, verify_bundle
from archive.checkpoint import (
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    parse_skey,
    parse_vkey,
    sign_note,
)
from archive.errors import IntegrityError, UsageError
from archive.evidence import write_evidence
from archive.fixity import Anchors, AuditReport, audit_archive
from archive.models import AccessLevel, LogCheckpoint, RecordFile
from archive.repository import Destruction
from archive.rotation import rotate_signing_key
from archive.signing import PASSPHRASE_ENV, TrustedKeys, private_key_encrypted
from archive.verify import RecordVerification, loose_modes

TrustedOption = Annotated[
    list[str] | None,
    typer.Option(
        "--trusted-key",
        metavar="FINGERPRINT|FILE",
        help="A key to trust: the fingerprint 'luutru init' printed (written down outside the "
        "archive), or a public key file kept elsewhere. Repeat for rotated keys.",
    ),
]


def verify(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Records to check (ids or 8+ character prefixes), or one evidence bundle "
            "(.zip, checked alone: no archive home needed); all records when none are given.",
            metavar="RECORD_ID|BUNDLE.zip",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", metavar="PATH", help="Is this file in the archive, in which record, intact?"
        ),
    ] = None,
    trusted_keys: TrustedOption = None,
    kept_checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="A checkpoint saved earlier ('luutru log checkpoint'): the log must still "
            "contain, unchanged, everything it covered.",
        ),
    ] = None,
    witness_keys: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            metavar="VKEY|FILE",
            help="A witness's verifier key: the newest checkpoint must carry its co-signature.",
        ),
    ] = None,
    sha512: Annotated[
        bool, typer.Option("--sha512", help="Check every file's sha512 as well as its sha256.")
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Index records missing from the search index and remove blobs no record "
            "references that are over a day old. Records themselves are never changed.",
        ),
    ] = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Check the archive offline, like 'git fsck': each seal's signature and manifest, that the
    database says what the seal says, that every file still has its sha256, that the log
    rebuilt from its entries agrees with every signed checkpoint and still names every record;
    and warn about records missing from the search index, blobs no record references, and
    files others could read. Each check of a record is kept as an event ('luutru show').

    Given BUNDLE.zip, checks that evidence bundle alone, anywhere. With --file, finds the file.

    Exit status 5 when anything is damaged (every damaged record is named), or when a seal or
    checkpoint is not by a --trusted-key given (said as such: nothing is recorded as
    damaged); warnings alone leave it 0. With --file, 4 when the file is not archived, or
    only was, in a record since destroyed."""
    if targets and len(targets) == 1 and targets[0].endswith(".zip") and Path(targets[0]).is_file():
        _verify_bundle(Path(targets[0]), trusted_keys or [], as_json)
        return
    with reported():
        for target in targets or []:
            _refuse_a_path(target)
    with opened(ctx, home) as services:
        anchors = Anchors(
            TrustedKeys.parse(trusted_keys or []),
            [_read(path) for path in kept_checkpoints or []],
            [_witness(value) for value in witness_keys or []],
        )
        if file is not None:
            _verify_file(services, file, anchors, as_json)
            return
        archive = services.archive
        ids = [archive.resolve_id(rid, AccessLevel.SECRET) for rid in targets or []]
        report = audit_archive(archive, ids or None, anchors, sha512)
        destroyed = archive.destructions([r.record_id for r in report.records if r.destroyed])
        housekeeping = services.housekeeping(repair) if not ids else Housekeeping()
        loose = loose_modes(archive.home.root, archive.settings.group is not None)
        warnings = [*housekeeping.warnings(), *loose]
    report.problems += housekeeping.damage()
    _print_audit(report, housekeeping, warnings, destroyed, as_json)
    _report_housekeeping(housekeeping, loose, archive.home.root)
    if not report.intact and not as_json:
        damaged = sorted({*report.damaged, *housekeeping.unrestored})
        err.print(f"[red]damaged: {', '.join(damaged) or 'the log'}[/]")
    if not report.trusted and not as_json:
        err.print(f"[red]{shown(_untrusted_line(report))}[/]")
    if not report.ok:
        raise typer.Exit(ExitCode.INTEGRITY)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None


def _witness(value: str) -> NoteVerifier:
    text = Path(value).read_text().strip() if Path(value).is_file() else value.strip()
    with reported():
        try:
            return parse_vkey(text)
        except IntegrityError as exc:
            raise UsageError(f"--witness-key {value!r} is not a note verifier key: {exc}") from None


def _trust_line(report: AuditReport) -> str:
    keys = ", ".join(sorted(report.keys_used)) or "none"
    if report.pinned and not report.trusted:
        return f"signed by key(s) {keys}; NOT signed by the trusted key(s) given"
    if report.pinned:
        return f"signed by key(s) {keys}; checked against the trusted key(s) given"
    return (
        f"signed by key(s) {keys} — not checked against a trusted key "
        "(--trusted-key FINGERPRINT: the one written down when the archive was made)"
    )


def _untrusted_line(report: AuditReport) -> str:
    """A trust problem, told as one: a mistyped fingerprint and a foreign key read alike."""
    return (
        f"not signed by the trusted key(s) given: {'; '.join(report.untrusted())}. Check each "
        "--trusted-key against the fingerprint written down when the archive was made "
        "('luutru keys show' prints the archive's own); if they are right, these were signed "
        "by another key than the one written down, so do not rely on them. Nothing was "
        "recorded as damaged"
    )


def _state(r: RecordVerification) -> str:
    if not r.ok:
        return "damaged"
    if r.destroyed:
        return "destroyed"
    return "intact" if r.trusted else "untrusted"


def _print_audit(
    report: AuditReport,
    housekeeping: Housekeeping,
    warnings: list[str],
    destroyed: dict[str, Destruction],
    as_json: bool,
) -> None:
    lost = housekeeping.unrestored
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "records": [
                    {
                        "record_id": r.record_id,
                        "ok": r.ok,
                        "state": _state(r),
                        "files_checked": r.files_checked,
                        "key_id": r.key_id,
                        "problems": r.problems,
                        "untrusted": r.untrusted,
                        "destroyed": destroyed[r.record_id].as_json()
                        if r.record_id in destroyed
                        else None,
                    }
                    for r in report.records
                ],
                "log": None
                if report.log is None
                else {"size": report.log.size, "checkpoints": report.log.checkpoints},
                "vanished": report.vanished,
                "problems": report.all_problems(),
                "damaged": sorted({*report.damaged, *lost}),
                "lost": lost,
                "trusted_keys_pinned": report.pinned,
                "trust": _trust_line(report),
                "trusted": report.trusted,
                "untrusted": report.untrusted(),
                "untrusted_records": report.untrusted_records,
                "warnings": warnings,
                "repaired": housekeeping.repaired,
                "index_rebuilt": housekeeping.index_rebuilt,
                "newer_revisions": housekeeping.newer_revisions,
            }
        )
        return
    table = Table(title=f"Verification of {len(report.records)} record(s)")
    for column in ("record", "files", "result"):
        table.add_column(column, overflow="fold")
    for r in report.records:
        table.add_row(r.record_id, str(r.files_checked), _verdict(r, destroyed.get(r.record_id)))
    out.print(table)
    if report.log is not None:
        state = "[green]consistent[/]" if report.log.ok else "[red]damaged[/]"
        out.print(
            f"Log: {report.log.size} entries, {report.log.checkpoints} signed checkpoints, {state}"
        )
    for problem in report.all_problems():
        out.print(f"[red]{shown(problem)}[/]")
    style = "red" if not report.trusted else (None if report.pinned else "yellow")
    out.print(shown(_trust_line(report)), style=style)


def _verdict(r: RecordVerification, destroyed: Destruction | None) -> str:
    if not r.ok:
        return f"[red]{shown('; '.join(r.problems))}[/]"
    if r.destroyed:
        # Its files are gone lawfully: what was checked is the tombstone, never "intact".
        told = destroyed.told() if destroyed else "destroyed"
        return f"[blue]{shown(told)}; tombstone checked[/]"
    if not r.trusted:
        return "[red]files intact; NOT sealed by a trusted key given[/]"
    return "[green]intact[/]"


def _report_housekeeping(housekeeping: Housekeeping, loose: list[str], root: Path) -> None:
    if housekeeping.index_rebuilt:
        err.print(f"[yellow]{shown(housekeeping.index_rebuilt)}[/]")
    for warning in housekeeping.warnings():
        err.print(f"[yellow]warning: {shown(warning)}[/]")
    for record_id in housekeeping.restored:
        err.print(f"[green]restored record {record_id} from its signed manifest and seal[/]")
    if housekeeping.repaired:
        err.print("[green]repaired: the index caught up and unreferenced blobs were removed[/]")
    elif housekeeping.repairable():
        err.print("[yellow]'luutru verify --repair' repairs the index and removes the blobs[/]")
    if loose:
        err.print(
            "[yellow]warning: other users may read this archive; "
            f"'chmod -R go-rwx {shown(str(root))}' closes it:[/]"
        )
        for line in loose:
            err.print(f"[yellow]  {shown(line)}[/]")


def _verify_bundle(path: Path, trusted: list[str], as_json: bool) -> None:
    with reported():
        try:
            report = verify_bundle(path, trusted)
        except BundleError as exc:
            raise UsageError(str(exc)) from None
    _print_bundle(path, report, pins_of(trusted), as_json)
    if not report.ok:
        raise typer.Exit(ExitCode.INTEGRITY)


def _print_bundle(path: Path, report: BundleReport, pins: set[str], as_json: bool) -> None:
    if as_json:
        print_json(report.as_json())
        return
    verdict = "[green]valid[/]" if report.ok else "[red]DAMAGED[/]"
    out.print(
        f"Evidence bundle {shown(str(path))}: {verdict} — record {report.record_id}, "
        f"{report.files_checked} file(s), log entry {report.leaf_index} of {report.tree_size} "
        f"({shown(report.origin)})"
    )
    if report.pinned:
        # Whose key it is, said also when it is trusted (unpinned, the note says it): a
        # bundle checks against the keys it carries, so a valid one may come from any
        # archive, and only the fingerprint tells which.
        trusted = report.key_fingerprint in pins
        out.print(
            f"  signed by key {report.key_fingerprint or '?'}: "
            + ("a trusted key given" if trusted else "[red]NOT a trusted key given[/]")
        )
    for problem in report.problems:
        out.print(f"[red]  {shown(problem)}[/]")
    for note in report.notes:
        out.print(f"[yellow]  {shown(note)}[/]")


def _verify_file(services: Services, path: Path, anchors: Anchors, as_json: bool) -> None:
    """Which records hold a file with these bytes, and are they intact? A destroyed record
    that held it is said as such: the file WAS archived, and is no longer."""
    with reported():
        sha256, _size = sha256_file(path)
        with services.archive.faults(), services.archive.session() as session:
            holders = list(
                session.execute(
                    select(RecordFile.record_id, RecordFile.role).where(RecordFile.sha256 == sha256)
                )
            )
    ids = sorted({record_id for record_id, _ in holders})
    report = audit_archive(services.archive, ids, anchors) if ids else AuditReport()
    destroyed = services.archive.destructions(ids) if ids else {}
    results = {r.record_id: r for r in report.records}
    found = [_holder(rid, role, results.get(rid), destroyed.get(rid)) for rid, role in holders]
    living = [hit for hit in found if hit["record_id"] not in destroyed]
    if as_json:
        print_json(
            {
                "path": str(path),
                "sha256": sha256,
                "archived": bool(living),
                "destroyed": bool(destroyed),
                "records": found,
            }
        )
    elif not found:
        out.print(f"{shown(str(path))} (sha256 {sha256}) is not in the archive.")
    for hit in [] if as_json else found:
        rid = str(hit["record_id"])
        if rid in destroyed and hit["intact"] is None:
            out.print(
                f"{shown(str(path))} [blue]was[/] the {hit['role']} of record {rid}, "
                f"{shown(destroyed[rid].told())}: it is no longer archived"
            )
            continue
        state = FILE_STATES.get(str(hit["state"]), "[red]DAMAGED[/]")
        out.print(f"{shown(str(path))} is the {hit['role']} of record {rid}: {state}")
    if not report.intact:
        raise typer.Exit(ExitCode.INTEGRITY)
    if not living:
        # Not (or no longer) archived: a script asking "is this archived?" hears no.
        raise typer.Exit(ExitCode.NOT_FOUND)
    if not report.trusted:
        raise typer.Exit(ExitCode.INTEGRITY)


FILE_STATES = {
    "intact": "[green]intact[/]",
    "untrusted": "[red]intact, but NOT sealed by a trusted key given[/]",
}


def _holder(
    record_id: str, role: str, result: RecordVerification | None, destroyed: Destruction | None
) -> dict[str, Any]:
    ok = result is not None and result.ok
    return {
        "record_id": record_id,
        "role": role,
        "state": _state(result) if result is not None else "damaged",
        # A destroyed record's file is neither intact nor damaged: it is gone.
        "intact": None if destroyed is not None and ok else ok,
        "destroyed": destroyed.as_json() if destroyed is not None else None,
    }


def _refuse_a_path(target: str) -> None:
    """A target that reads as a file's path, not a record id, is told as such: "no record
    'scan.png'" would send the reader looking for the wrong thing."""
    if _RECORD_ID.match(target.strip()):
        return
    path = Path(target)
    if target.endswith(".zip") and not path.exists():
        raise UsageError(f"{target}: no such file (an evidence bundle to check)")
    if path.is_file():
        raise UsageError(
            f"{target} is a file, not a record id: 'luutru verify --file {target}' finds the "
            "record that holds it; an evidence bundle is checked as a .zip"
        )
    if "/" in target or path.suffix:
        raise UsageError(f"{target}: no such file, and it is not a record id")


# What may be a record id or its prefix (``Archive.resolve_id`` says which, or none).
_RECORD_ID = re.compile(r"^[0-9A-Fa-f]+$")


def evidence(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(help="The record (8+ characters of its id).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="FILE.zip", help="Where to write the bundle.")
    ],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Write an evidence bundle: the record's files, its signed manifest as logged, the log's
    inclusion proof and signed checkpoint, the archive's public keys, and how to check it all
    by hand (README.txt, Vietnamese and English). 'luutru verify FILE.zip' checks it anywhere.

    Every file is hashed as it is written: one that is not as sealed stops it (exit 5, no
    bundle is written; run 'luutru verify'). A destroyed record has no files: refused (12)."""
    if output.exists():
        # A bundle handed out may be the one a court holds: never replaced unasked.
        with reported():
            raise UsageError(f"{output} exists: choose another name, or remove it first")
    with opened(ctx, home) as services:
        done = write_evidence(services.archive, record_id, output)
    if as_json:
        print_json(
            {
                "path": str(done.path),
                "record_id": done.record_id,
                "leaf_index": done.leaf_index,
                "tree_size": done.tree_size,
                "sha256": hashlib.sha256(done.path.read_bytes()).hexdigest(),
            }
        )
    else:
        out.print(
            f"Evidence for record {done.record_id}: {shown(str(done.path))} ({done.files} "
            f"file(s), log entry {done.leaf_index} of {done.tree_size})"
        )


keys_app = typer.Typer(help="The archive's signing keys.", no_args_is_help=True)


@keys_app.command("show")
def keys_show(ctx: typer.Context, as_json: JsonOption = False, home: HomeOption = None) -> None:
    """The current signing key's fingerprint (to write down outside the archive), whether it
    is encrypted at rest, and every public key the archive has sealed with."""
    with opened(ctx, home) as services:
        archive = services.archive
        current = archive.verifier()
        keys = list(archive.keyring())
        encrypted = private_key_encrypted(archive.home.keys_dir)
    view: dict[str, Any] = {
        "current": {"key_id": current.key_id, "fingerprint": current.fingerprint},
        "private_key": "absent (kept offline)"
        if encrypted is None
        else ("encrypted" if encrypted else "NOT encrypted"),
        "published": [{"key_id": k.key_id, "fingerprint": k.fingerprint} for k in keys],
    }
    if as_json:
        print_json(view)
        return
    out.print(f"Signing key {current.key_id}, fingerprint {current.fingerprint}")
    out.print(f"Private key: {view['private_key']}")
    if encrypted is False:
        warn_unencrypted()
    table = Table(title="Published public keys (every seal verifies with one of them)")
    table.add_column("key id")
    table.add_column("fingerprint")
    for key in keys:
        table.add_row(key.key_id, key.fingerprint)
    out.print(table)


def warn_unencrypted() -> None:
    err.print(
        f"[bold red]WARNING: the private signing key is stored UNENCRYPTED. Anyone who can read "
        f"it can forge seals. Set {PASSPHRASE_ENV} and run 'luutru keys rotate' to replace it "
        "by an encrypted key.[/]"
    )


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context, as_json: JsonOption = False, home: HomeOption = None) -> None:
    """Make a new signing key (encrypted with LUUTRU_KEY_PASSPHRASE) and announce it in the
    log, endorsed by the old one. Old seals keep verifying: their public key stays published.
    The old private key goes to keys/retired/: destroy it or take it offline."""
    with opened(ctx, home) as services:
        done = rotate_signing_key(services.archive)
    if as_json:
        print_json(
            {
                "old_key_id": done.old_key_id,
                "new_key_id": done.new_key_id,
                "fingerprint": done.new_fingerprint,
                "encrypted": done.encrypted,
                "log_size": done.log_size,
            }
        )
        return
    out.print(f"New signing key {done.new_key_id} (replaces {done.old_key_id}).")
    out.print(f"Write its fingerprint down outside the archive: {done.new_fingerprint}")
    if not done.encrypted:
        warn_unencrypted()


log_app = typer.Typer(
    help="The archive's append-only log and its checkpoints.", no_args_is_help=True
)


@log_app.command("checkpoint")
def log_checkpoint(
    ctx: typer.Context, as_json: JsonOption = False, home: HomeOption = None
) -> None:
    """Print the newest signed checkpoint. Keep it outside the archive: 'luutru verify
    --checkpoint FILE' later proves that nothing it covered was changed or removed."""
    with opened(ctx, home) as services, services.archive.session() as session:
        newest = log.latest_checkpoint(session)
        origin = log.head(session).origin
    if newest is None:
        raise typer.Exit(ExitCode.NOT_FOUND)
    note = newest.witnessed_note or newest.note
    if as_json:
        print_json({"origin": origin, "size": newest.size, "note": note, "key_id": newest.key_id})
    else:
        typer.echo(note, nl=False)


@log_app.command("witness-key")
def log_witness_key(
    name: Annotated[str, typer.Argument(help="The witness's name, e.g. its agency's domain.")],
    output: Annotated[Path, typer.Option("-o", help="Where to write the private witness key.")],
) -> None:
    """Make a witness key pair (for a second party that co-signs checkpoints; keep it on
    another machine). Prints the verifier key to give to 'verify --witness-key'."""
    with reported():
        if output.exists():
            raise UsageError(f"{output} exists; a witness key is never overwritten")
        signer = NoteSigner.generate(name)
        output.write_text(signer.skey() + "\n")
        output.chmod(0o600)
    out.print(signer.verifier.vkey())


@log_app.command("witness-sign")
def log_witness_sign(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint from 'luutru log checkpoint'.")],
    key: Annotated[Path, typer.Option("--key", help="The witness's private key file.")],
) -> None:
    """Co-sign a checkpoint as a witness (on the witness's own machine; no archive needed).
    Prints the note with the witness's signature added."""
    with reported():
        signer = parse_skey(key.read_text().strip())
        note = _read(checkpoint)
        text = note[: note.rfind(b"\n\n") + 1]
        try:
            opened_note = open_note(note, [])
        except IntegrityError as exc:
            existing = getattr(exc, "note", None)
            if existing is None:
                raise
            opened_note = existing
        signed = sign_note(text, [signer], opened_note.unverified_signatures)
    typer.echo(signed.decode("utf-8"), nl=False)


@log_app.command("cosign")
def log_cosign(
    ctx: typer.Context,
    witnessed: Annotated[Path, typer.Argument(help="The checkpoint as a witness co-signed it.")],
    home: HomeOption = None,
) -> None:
    """Keep a witness's co-signature of one of the archive's checkpoints."""
    with opened(ctx, home) as services, services.archive.session() as session, session.begin():
        note = _read(witnessed)
        origin = log.head(session).origin
        verifiers = [k.note_verifier(origin) for k in services.archive.keyring()]
        checkpoint, _ = open_checkpoint(note, verifiers)
        row = session.get(LogCheckpoint, checkpoint.size)
        if row is None or row.root != checkpoint.root_hash:
            raise IntegrityError("the witnessed checkpoint is not one of this archive's")
        row.witnessed_note = note.decode("utf-8")
    out.print(f"Kept the witness co-signature of the checkpoint of {checkpoint.size} entries.")
