"""The shapes the read API answers with: its OpenAPI schema, which schemathesis checks every
response against. They mirror the CLI's --json (``api/views.py``, ``search/contracts.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Hit(BaseModel):
    record_id: str
    title: str
    number: str
    date: str | None
    doc_type: str
    issuer: str
    score: float | None = Field(
        description="the engine's relevance, for readers cleared for every record only "
        "(it weighs words by how many records hold them, restricted ones too)"
    )
    snippet: str = Field(description="HTML: the text escaped, query words in <b>")


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResponse(BaseModel):
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]


class Metadata(BaseModel):
    number: str
    doc_type: str
    type_name: str
    issuer: str
    date: str | None
    place: str
    subject: str
    language: str
    page_count: int


class FileInfo(BaseModel):
    role: str
    media_type: str
    size: int
    sha256: str
    sha512: str | None
    name: str


class SealInfo(BaseModel):
    algorithm: str
    key_id: str
    manifest_sha256: str
    signature: str
    sealed_at: str


class Disposition(BaseModel):
    at: str
    by: str | None
    list_id: int | None


class LogEntryInfo(BaseModel):
    seq: int
    kind: str
    entry_sha256: str
    logged_at: str


class EventInfo(BaseModel):
    at: str
    kind: str
    outcome: str
    agent: str
    detail: str


class RecordResponse(BaseModel):
    record_id: str
    title: str
    series_code: str | None
    access: str
    closed_year: int | None
    source_name: str
    ingested_at: str
    ingested_by: str
    status: str
    disposition: Disposition | None
    warnings: list[str]
    signatures: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    metadata: Metadata
    files: list[FileInfo]
    seal: SealInfo | None
    log: list[LogEntryInfo]
    events: list[EventInfo]


class TextResponse(BaseModel):
    record_id: str
    text: str


class FileMatch(BaseModel):
    record_id: str
    role: str
    intact: bool | None = Field(
        description="null when the record was destroyed: its files are gone"
    )
    destroyed: dict[str, Any] | None = Field(
        default=None,
        description="when, by whom, under which disposal list and record of destruction",
    )


class VerifyResponse(BaseModel):
    kind: str = Field(description="'file' or 'bundle'")
    sha256: str
    archived: bool = Field(
        description="archived here, now: a bundle made by another archive, or of a record "
        "destroyed since, is not"
    )
    intact: bool
    records: list[FileMatch]
    bundle: dict[str, Any] | None = None
    made_here: bool | None = Field(
        default=None, description="a bundle signed by one of this archive's keys"
    )
    destroyed: dict[str, Any] | None = None
    reason: str | None = Field(default=None, description="why it is not archived here")


class CheckpointResponse(BaseModel):
    origin: str
    size: int
    root: str = Field(description="base64")
    note: str


class InclusionResponse(BaseModel):
    record_id: str
    leaf_index: int
    tree_size: int
    hashes: list[str]
    checkpoint: str


class ConsistencyResponse(BaseModel):
    old_size: int
    new_size: int
    hashes: list[str]


class DueItem(BaseModel):
    record_id: str
    series: str
    action: str
    due_date: str
    held: bool
    status: str


class DueResponse(BaseModel):
    as_of: str
    due: list[DueItem]


class HoldItem(BaseModel):
    id: int
    kind: str
    target: str
    reason: str
    created_by: str
    created_at: str
    released_at: str | None
    records: int
    released_by: str | None = None
    release_reason: str | None = None


class HoldsResponse(BaseModel):
    holds: list[HoldItem]


class Count(BaseModel):
    label: str
    count: int


class DashboardResponse(BaseModel):
    records: int
    pages: int
    by_issuer: list[Count]
    by_type: list[Count]
    by_year: list[Count]
    pages_by_month: list[Count]
    confidence: list[Count]
    fixity: list[Count]
    retention_due: list[Count]


class Health(BaseModel):
    status: str
