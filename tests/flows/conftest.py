"""Every flow module's one test: run the flow both ways and compare (see harness.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.flows.harness import Flow, Provider, check_flow


@pytest.fixture
def run_flow(client, db, app, make_org, make_token) -> Callable[[Flow, Provider], None]:
    def _run(flow: Flow, provider: Provider) -> None:
        check_flow(
            flow, provider, client=client, db=db, app=app, make_org=make_org, make_token=make_token
        )

    return _run


def flow_ids(flows: list[Any]) -> list[str]:
    return [flow.name for flow in flows]
