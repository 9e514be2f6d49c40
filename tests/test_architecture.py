"""The layers of docs/architecture.md hold in the code: no import loop, nothing imported upwards.

Every module of ``servicedesk`` and ``integrations`` gets a layer from the rules below (the same
table the document draws). A module may import modules of its own layer or of a layer below it;
in the feature layer, a feature may import its own modules and those of the features in the
tiers below it, never a sibling of its own tier. No import, direct or inside a function, may
close a loop. A new module falls under the rules by its name; a new feature package is added to
FEATURE_TIERS (and to the document), or this test names it.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The layers, top first: (name, module patterns). The first layer with a matching pattern is
#: the module's; ``*`` stands for one name, ``**`` for any dotted tail.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "app",
        [
            "servicedesk",
            "servicedesk.app",
            "servicedesk.cli",
            "servicedesk.commands",
            "servicedesk.serve",
            "servicedesk.jobs",
            "servicedesk.demo",
            "servicedesk.demo.**",
        ],
    ),
    (
        "interface",
        [
            "servicedesk.*.blueprint",
            "servicedesk.*.*_views",
            "servicedesk.*.cli",
            "servicedesk.*.tasks",
            "servicedesk.*.forms",
            "servicedesk.web",
            "servicedesk.openapi",
            "servicedesk.apimodels",
            "servicedesk.health",
            "servicedesk.ingest.web",
            "servicedesk.ingest.lane",
            "servicedesk.ingest.refusals",
            "servicedesk.ingest.delivery",
            "servicedesk.surveys.public",
            "servicedesk.surveys.inbound",
        ],
    ),
    ("feature", ["servicedesk.*", "servicedesk.*.**"]),
    ("tables", ["servicedesk.models", "servicedesk.*.models"]),
    (
        "foundation",
        [
            "servicedesk.db",
            "servicedesk.statements",
            "servicedesk.settings",
            "servicedesk.secrets",
            "servicedesk.sealing",
            "servicedesk.cache",
            "servicedesk.scheduling",
            "servicedesk.timeutil",
            "servicedesk.problems",
            "servicedesk.unavailable",
            "servicedesk.observability",
            "servicedesk.formatting",
            "servicedesk.migrate",
            "servicedesk.cells",
            "servicedesk.redirects",
            "servicedesk.ratelimits",
            "servicedesk.slowclients",
            "servicedesk.metrics.definitions",
            "servicedesk.metrics.catalogue",
            "servicedesk.metrics.periods",
        ],
    ),
    ("integrations", ["integrations", "integrations.**"]),
]
#: Which layers are above which (the order of LAYERS); a module is in the feature layer when no
#: other layer's patterns claim it.
ORDER = ["app", "interface", "feature", "tables", "foundation", "integrations"]

#: The feature packages, top tier first. A feature imports its own modules and those of lower
#: tiers; the features of one tier are independent of each other.
FEATURE_TIERS: list[list[str]] = [
    ["benchmarking"],
    ["dashboard", "orgsettings", "notify"],
    ["reports", "callimport", "gdpr"],
    ["surveys"],
    ["kolada", "webhooks", "auth"],
    ["metrics"],
    ["ingest"],
    ["contacts"],
    ["orgs"],
    ["calendars", "audit"],
    ["privacy"],
]


def _matches(module: str, pattern: str) -> bool:
    """``*`` is one name, a trailing ``.**`` one or more names."""
    names, wanted = module.split("."), pattern.split(".")
    if wanted[-1] == "**":
        head = wanted[:-1]
        return len(names) > len(head) and fnmatchcase(".".join(names[: len(head)]), ".".join(head))
    return len(names) == len(wanted) and fnmatchcase(module, pattern)


def layer_of(module: str) -> str:
    """The module's layer by LAYERS (the specific layers before the catch-all feature one)."""
    for name, patterns in LAYERS:
        if name != "feature" and any(_matches(module, p) for p in patterns):
            return name
    for name, patterns in LAYERS:
        if name == "feature" and any(_matches(module, p) for p in patterns):
            return name
    raise AssertionError(f"{module} has no layer in tests/test_architecture.py")


def feature_of(module: str) -> str:
    return module.split(".")[1]


def tier_of(feature: str) -> int:
    for n, tier in enumerate(FEATURE_TIERS):
        if feature in tier:
            return n
    raise AssertionError(
        f"servicedesk.{feature} is a feature package in no tier: add it to FEATURE_TIERS in "
        "tests/test_architecture.py and to the diagram of docs/architecture.md"
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("servicedesk", "integrations", cache_dir=None)


def _imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    return sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
    )


def test_every_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    for module in graph.modules:
        if layer_of(module) == "feature":
            tier_of(feature_of(module))


def test_no_module_imports_from_a_layer_above_it(graph: grimp.ImportGraph) -> None:
    upward = []
    for importer, imported in _imports(graph):
        a, b = layer_of(importer), layer_of(imported)
        if ORDER.index(b) < ORDER.index(a):
            upward.append(f"{importer} ({a}) imports {imported} ({b})")
    assert upward == []


def test_features_import_only_their_own_tier_downwards(graph: grimp.ImportGraph) -> None:
    wrong = []
    for importer, imported in _imports(graph):
        if layer_of(importer) != "feature" or layer_of(imported) != "feature":
            continue
        mine, theirs = feature_of(importer), feature_of(imported)
        if mine != theirs and tier_of(theirs) <= tier_of(mine):
            side = "a sibling" if tier_of(theirs) == tier_of(mine) else "a higher tier"
            wrong.append(f"{importer} imports {imported} ({side})")
    assert wrong == []


def test_no_import_loop(graph: grimp.ImportGraph) -> None:
    """Tarjan's strongly connected components over the direct imports: none larger than one."""
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    assert loops == []


def test_integrations_know_nothing_of_the_app(graph: grimp.ImportGraph) -> None:
    outward = [
        f"{a} imports {b}"
        for a, b in _imports(graph)
        if a.startswith("integrations") and b.startswith("servicedesk")
    ]
    assert outward == []


def test_the_document_draws_these_tiers() -> None:
    """docs/architecture.md's diagram names the same feature tiers, in the same order."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    drawn = re.findall(r"^\s*tier(\d+)\[\"([^\"]+)\"\]", text, flags=re.M)
    assert [names.split(", ") for _, names in sorted(drawn, key=lambda t: int(t[0]))] == [
        tier for tier in FEATURE_TIERS
    ]
