"""schemathesis against the API's own OpenAPI schema: no 5xx for any input it can make, and
every answer matches the schema (status, content type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from tests.conftest import IngestedArchive

EXAMPLES_PER_OPERATION = 30


def test_every_answer_matches_the_schema(ingested_copy: IngestedArchive) -> None:
    app = create_app(ingested_copy.home)
    with TestClient(app):  # runs the app's startup (the archive and index are opened)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:
            _check(operation)


def _check(operation: schemathesis.APIOperation) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        case.call_and_validate()

    try:
        run()
    except Exception as exc:  # noqa: BLE001 - name the operation that failed
        pytest.fail(f"{operation.method.upper()} {operation.path}: {exc}")
