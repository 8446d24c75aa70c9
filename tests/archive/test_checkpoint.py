"""Signed notes and checkpoints against Go's published keys and notes, then the failure cases.

The PeterNeumann and EnochRoot keys, the note text and both signature lines are copied from
golang.org/x/mod sumdb/note/note_test.go (TestSign, TestOpen, TestNewVerifier, TestNewSigner);
Ed25519 is deterministic, so signing with Peter's private key must give Go's bytes exactly.
The two example notes are those of c2sp.org/signed-note and c2sp.org/tlog-checkpoint.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive import merkle
from archive.checkpoint import (
    AmbiguousKeyError,
    Checkpoint,
    InvalidSignatureError,
    KeyFormatError,
    MalformedCheckpointError,
    MalformedNoteError,
    NoteError,
    NoteSigner,
    OpenedNote,
    Signature,
    UnverifiedNoteError,
    open_checkpoint,
    open_note,
    parse_skey,
    parse_vkey,
    sign_checkpoint,
    sign_note,
)
from archive.errors import IntegrityError

# golang.org/x/mod sumdb/note/note_test.go -------------------------------------------------
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"— PeterNeumann {PETER_B64}\n".encode()
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n".encode()
PETER = Signature("PeterNeumann", 0xC74F20A3, PETER_B64)
ENOCH = Signature("EnochRoot", 0xAF0CFE78, ENOCH_B64)
WRONG_LENGTH_KEY = (  # "wrong length key, with adjusted key hash"
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
)
UNKNOWN_ALGORITHM_KEY = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

# c2sp.org/signed-note and c2sp.org/tlog-checkpoint, their opening examples ---------------
C2SP_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONr"
    "MouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
).encode()
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
).encode()


@pytest.fixture(scope="module")
def peter() -> NoteSigner:
    return parse_skey(PETER_SKEY)


# Keys ----------------------------------------------------------------------------------


def test_gos_keys_parse_and_print_back(peter: NoteSigner) -> None:
    verifier = parse_vkey(PETER_VKEY)
    assert (verifier.name, verifier.key_hash) == ("PeterNeumann", 0xC74F20A3)
    assert verifier.vkey() == PETER_VKEY
    assert peter.skey() == PETER_SKEY
    assert peter.verifier == verifier and peter.verifier.vkey() == PETER_VKEY
    assert parse_vkey(ENOCH_VKEY).key_hash == 0xAF0CFE78


def test_a_signer_does_not_show_its_private_key(peter: NoteSigner) -> None:
    assert repr(peter) == "NoteSigner(PeterNeumann+c74f20a3)"
    assert "AYEKFALV" not in repr(peter) + str(vars(peter))


def _manglings(key: str) -> list[str]:
    """Go's TestNewVerifier and TestNewSigner: every proper substring, every byte plus one."""
    raw = key.encode()
    cut = [raw[i:j] for i in range(len(raw) + 1) for j in range(i + 1, len(raw) + 1)]
    bumped = [raw[:i] + bytes([raw[i] + 1]) + raw[i + 1 :] for i in range(len(raw))]
    return [m.decode() for m in cut + bumped if m != raw]


def test_every_mangled_verifier_key_is_refused() -> None:
    for text in [*_manglings(PETER_VKEY), WRONG_LENGTH_KEY, UNKNOWN_ALGORITHM_KEY]:
        with pytest.raises(KeyFormatError):
            parse_vkey(text)


def test_every_mangled_signer_key_is_refused() -> None:
    for text in _manglings(PETER_SKEY):
        with pytest.raises(KeyFormatError) as raised:
            parse_skey(text)
        assert "AYEKFALV" not in str(raised.value)  # never quote a private key


@pytest.mark.parametrize("name", ["", "bad name", "a+b", "tab\there", "nbsp\xa0", "em\u2003space"])
def test_key_names_are_those_go_allows(name: str) -> None:
    with pytest.raises(KeyFormatError):
        NoteSigner.generate(name)


def test_names_go_allows_though_python_calls_them_space() -> None:
    # U+001C..U+001F are str.isspace() but not Unicode White_Space, so Go takes them.
    assert NoteSigner.generate("file\x1cseparator").name == "file\x1cseparator"
    assert NoteSigner.generate("archive.example/luutru-Lưu_trữ").name.endswith("trữ")


def test_a_generated_key_round_trips_through_its_strings() -> None:
    signer = NoteSigner.generate("archive.example/luutru")
    again = parse_skey(signer.skey())
    assert again.verifier == signer.verifier == parse_vkey(signer.verifier.vkey())
    assert again.sign(b"hi") == signer.sign(b"hi")
    assert signer.verifier.verify(b"hi", again.sign(b"hi"))
    assert not signer.verifier.verify(b"ho", again.sign(b"hi"))
    assert not signer.verifier.verify(b"hi", b"\x00" * 64)


# Signing: Go's TestSign --------------------------------------------------------------------


def test_signing_gives_gos_bytes(peter: NoteSigner) -> None:
    assert sign_note(TEXT, [peter]) == TEXT + b"\n" + PETER_SIG


def test_signing_again_replaces_the_old_signature(peter: NoteSigner) -> None:
    old = Signature("PeterNeumann", 0xC74F20A3, "BADSIGN=")
    assert sign_note(TEXT, [peter], existing=[old]) == TEXT + b"\n" + PETER_SIG


@pytest.mark.parametrize(
    ("body", "existing"),
    [
        (b"abc", []),  # the text must end in a newline
        (b"", []),
        (b"tab\there\n", []),
        (b"\xff\n", []),
        (TEXT, [Signature("a+b", 0, "ABCD")]),
        (TEXT, [Signature("PeterNeumann", 0xC74F20A3, "BADHASH=")]),
        (TEXT, [Signature("PeterNeumann", 0xC74F20A3, "not base64")]),
    ],
)
def test_signing_refuses_what_would_not_open(body: bytes, existing: list[Signature]) -> None:
    with pytest.raises(MalformedNoteError):
        sign_note(body, [], existing)


def test_signing_with_no_signature_at_all_is_refused() -> None:
    with pytest.raises(MalformedNoteError):
        sign_note(TEXT, [])


# Opening: Go's TestOpen --------------------------------------------------------------------

PETER_V = parse_vkey(PETER_VKEY)
ENOCH_V = parse_vkey(ENOCH_VKEY)


def test_one_known_and_one_unknown_signature() -> None:
    opened = open_note(TEXT + b"\n" + PETER_SIG + ENOCH_SIG, [PETER_V])
    assert opened == OpenedNote(TEXT, (PETER,), (ENOCH,))


def test_both_signatures_known() -> None:
    opened = open_note(TEXT + b"\n" + PETER_SIG + ENOCH_SIG, [PETER_V, ENOCH_V])
    assert opened == OpenedNote(TEXT, (PETER, ENOCH), ())


def test_no_known_signature_refuses_the_note_but_shows_it() -> None:
    with pytest.raises(UnverifiedNoteError, match="no verifiable signatures") as raised:
        open_note(TEXT + b"\n" + PETER_SIG + ENOCH_SIG, [])
    assert raised.value.note == OpenedNote(TEXT, (), (PETER, ENOCH))


def test_two_known_keys_of_one_name_and_hash_are_ambiguous() -> None:
    with pytest.raises(AmbiguousKeyError, match="EnochRoot\\+af0cfe78"):
        open_note(TEXT + b"\n" + ENOCH_SIG, [ENOCH_V, PETER_V, ENOCH_V])
    # Not when that key signed nothing here.
    assert open_note(TEXT + b"\n" + PETER_SIG, [ENOCH_V, PETER_V, ENOCH_V]).signatures == (PETER,)


def test_more_than_a_hundred_signatures_is_malformed() -> None:
    for verifiers in ([PETER_V], []):
        with pytest.raises(MalformedNoteError):
            open_note(TEXT + b"\n" + PETER_SIG * 101, verifiers)
    assert open_note(TEXT + b"\n" + PETER_SIG * 100, [PETER_V]).signatures == (PETER,)


def test_a_known_keys_bad_signature_refuses_the_note() -> None:
    bad = PETER_SIG[:60] + b"ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignatureError) as raised:
        open_note(TEXT + b"\n" + bad, [PETER_V])
    assert (raised.value.name, raised.value.key_hash) == ("PeterNeumann", 0xC74F20A3)
    with pytest.raises(InvalidSignatureError):
        open_note(TEXT.replace(b"problem,", b"problem;") + b"\n" + PETER_SIG, [PETER_V])


def test_repeated_signatures_are_dropped() -> None:
    enoch_abcd = ENOCH_SIG[:60] + b"ABCD" + ENOCH_SIG[60:]
    note = TEXT + b"\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    opened = open_note(note, [PETER_V])
    abcd = Signature("EnochRoot", 0xAF0CFE78, ENOCH_B64[:46] + "ABCD" + ENOCH_B64[46:])
    assert opened == OpenedNote(TEXT, (PETER,), (ENOCH, abcd))


def test_only_the_first_signature_of_a_known_key_is_checked() -> None:
    # As Go: a second line by the same key is dropped before it is verified.
    bad = PETER_SIG[:60] + b"ABCD" + PETER_SIG[60:]
    assert open_note(TEXT + b"\n" + PETER_SIG + bad, [PETER_V]).signatures == (PETER,)


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + b"\n",
        TEXT + b"\n" + PETER_SIG[:-1],  # the signatures must end in a newline
        b"\x01" + TEXT + b"\n" + PETER_SIG,
        b"\xff" + TEXT + b"\n" + PETER_SIG,
        TEXT + b"\n" + f"— Bad Name {PETER_B64}".encode(),
        TEXT + b"\n" + PETER_SIG + b"Unexpected line.\n",
        # and more of the same rules
        TEXT + b"\n" + f"— Bad Name {PETER_B64}\n".encode(),
        TEXT + b"\n" + f"— Peter+Neumann {PETER_B64}\n".encode(),
        TEXT + b"\n" + f"— PeterNeumann {PETER_B64[:-1]}\n".encode(),  # padding gone
        TEXT + b"\n" + f"— PeterNeumann {PETER_B64} \n".encode(),
        TEXT + b"\n" + b"\xe2\x80\x94 PeterNeumann\n",  # no signature
        TEXT + b"\n" + b"\xe2\x80\x94 PeterNeumann AAAAAA==\n",  # 4 bytes: a hash, no signature
        TEXT + b"\n" + b"- PeterNeumann " + PETER_B64.encode() + b"\n",  # hyphen, not em dash
        TEXT + b"\n" + PETER_SIG.replace(b"\n", b"\r\n"),
        TEXT.replace(b"\n", b"\r\n") + b"\r\n" + PETER_SIG,
        TEXT + b"\n" + b"\xed\xa0\x80" + PETER_SIG,  # an encoded surrogate is not UTF-8
    ],
)
def test_malformed_notes(note: bytes) -> None:
    with pytest.raises(MalformedNoteError):
        open_note(note, [PETER_V])


def test_the_text_ends_at_the_last_blank_line() -> None:
    with pytest.raises(UnverifiedNoteError) as raised:
        open_note(C2SP_NOTE, [])
    note = raised.value.note
    assert note.text.endswith("\n\ned è subito sera.\n".encode())
    assert [s.name for s in note.unverified_signatures] == ["quasimodo.example/salvatore"]


# Co-signing ------------------------------------------------------------------------------


def test_a_witness_co_signs_the_logs_checkpoint() -> None:
    log = NoteSigner.generate("archive.example/luutru")
    witness = NoteSigner.generate("witness.example/w1")
    note = sign_checkpoint(Checkpoint(log.name, 3, b"\x11" * 32), [log])
    opened = open_note(note, [log.verifier])  # at the witness, which knows the log's key
    cosigned = sign_note(
        opened.text, [witness], [*opened.signatures, *opened.unverified_signatures]
    )
    assert cosigned.startswith(note)  # the log's line first, untouched
    both = open_note(cosigned, [log.verifier, witness.verifier])
    assert [s.name for s in both.signatures] == [log.name, witness.name]
    only_log = open_note(cosigned, [log.verifier])
    assert [s.name for s in only_log.unverified_signatures] == [witness.name]
    checkpoint, _ = open_checkpoint(cosigned, [witness.verifier])
    assert checkpoint.size == 3


def test_one_call_can_sign_with_several_keys(peter: NoteSigner) -> None:
    other = NoteSigner.generate("EnochRoot")
    note = sign_note(TEXT, [peter, other])
    assert note.startswith(TEXT + b"\n" + PETER_SIG)
    assert len(open_note(note, [PETER_V, other.verifier]).signatures) == 2


# Checkpoints -------------------------------------------------------------------------------


def test_the_c2sp_example_checkpoint() -> None:
    body = C2SP_CHECKPOINT.split(b"\n\n")[0] + b"\n"
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.body() == body
    with pytest.raises(UnverifiedNoteError) as raised:
        open_checkpoint(C2SP_CHECKPOINT, [])
    assert raised.value.note.unverified_signatures[0].name == checkpoint.origin


def test_a_checkpoint_of_our_tree_round_trips() -> None:
    store = merkle.DictNodeStore()
    store.put_many(merkle.new_nodes_batch(0, [b"a", b"b", b"c"], store))
    signer = NoteSigner.generate("archive.example/luutru")
    written = Checkpoint(signer.name, 3, merkle.root(3, store), ("extension line",))
    root_text = base64.b64encode(written.root_hash).decode()
    expected = f"archive.example/luutru\n3\n{root_text}\nextension line\n"
    assert written.body() == expected.encode()
    checkpoint, opened = open_checkpoint(sign_checkpoint(written, [signer]), [signer.verifier])
    assert checkpoint == written and opened.signatures[0].name == signer.name


ROOT_B64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"log\n007\n{ROOT_B64}\n",  # a leading zero
        f"log\n00\n{ROOT_B64}\n",
        f"log\n+5\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n 5\n{ROOT_B64}\n",
        f"log\n5 \n{ROOT_B64}\n",
        f"log\n1_000\n{ROOT_B64}\n",
        f"log\n٣\n{ROOT_B64}\n",  # an Arabic-Indic digit, which int() would take
        f"log\n{2**64}\n{ROOT_B64}\n",  # beyond a uint64
        f"log\n{'9' * 5000}\n{ROOT_B64}\n",
        f"log\n\n{ROOT_B64}\n",
        f"\n5\n{ROOT_B64}\n",  # an empty origin
        f"log\n5\n{ROOT_B64}",  # no final newline
        "log\n5\n",
        "log\n5\n\n",
        f"log\n5\n{base64.b64encode(bytes(31)).decode()}\n",
        f"log\n5\n{base64.b64encode(bytes(33)).decode()}\n",
        f"log\n5\n{ROOT_B64[:-2]}9=\n",  # the same bytes, but not canonical base64
        f"log\n5\n{ROOT_B64[:-1]}\n",  # padding gone
        f"log\n5\n{ROOT_B64} \n",
        f"log\n5\n{base64.urlsafe_b64encode(bytes([0xFF] * 32)).decode()}\n",  # URL-safe
        f"log\n5\n{ROOT_B64}\n\n",  # an empty extension line
        f"log\n5\n{ROOT_B64}\n\nextension\n",
        f"log\r\n5\r\n{ROOT_B64}\r\n",
        f"lo\tg\n5\n{ROOT_B64}\n",
    ],
)
def test_checkpoints_that_are_refused(body: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.parse(body.encode())


def test_a_checkpoint_of_non_utf8_is_refused() -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.parse(b"l\xffg\n5\n" + ROOT_B64.encode() + b"\n")


def test_the_extremes_of_the_size_parse() -> None:
    assert Checkpoint.parse(f"log\n0\n{ROOT_B64}\n".encode()).size == 0
    assert Checkpoint.parse(f"log\n{2**64 - 1}\n{ROOT_B64}\n".encode()).size == 2**64 - 1


@pytest.mark.parametrize(
    "fields",
    [
        ("", 1, bytes(32), ()),
        ("two\nlines", 1, bytes(32), ()),
        ("log", -1, bytes(32), ()),
        ("log", 2**64, bytes(32), ()),
        ("log", True, bytes(32), ()),
        ("log", 1, bytes(31), ()),
        ("log", 1, bytes(32), ("",)),
        ("log", 1, bytes(32), ("a\nb",)),
    ],
)
def test_a_checkpoint_that_could_not_be_parsed_back_cannot_be_made(fields: tuple[Any, ...]) -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint(*fields)


def test_note_errors_are_integrity_errors() -> None:
    for error in (NoteError, MalformedNoteError, KeyFormatError, MalformedCheckpointError):
        assert issubclass(error, IntegrityError)
    assert issubclass(InvalidSignatureError, NoteError)


# Properties ----------------------------------------------------------------------------------

_CHARACTERS = st.characters(exclude_categories=["Cs"], min_codepoint=0x20)  # no control chars
_LINE = st.text(_CHARACTERS, min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    _LINE,
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(_LINE, max_size=3),
)
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


_SIGNER = NoteSigner.generate("archive.example/luutru")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(_CHARACTERS)), st.data())
def test_no_single_byte_change_alters_what_a_note_says(
    lines: list[str], data: st.DataObject
) -> None:
    text = "".join(line + "\n" for line in lines).encode() or b"\n"
    note = sign_note(text, [_SIGNER])
    assert open_note(note, [_SIGNER.verifier]).text == text
    position = data.draw(st.integers(0, len(note) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != note[position]))
    changed = note[:position] + bytes([value]) + note[position + 1 :]
    try:
        opened = open_note(changed, [_SIGNER.verifier])
    except NoteError:
        return
    # Only a base64 bit that decodes to nothing can change unnoticed, as in Go.
    assert opened.text == text and opened.signatures[0].name == _SIGNER.name
