"""``servicedesk benchmark ...``: taking part, the comparison, hub members and the history."""

from __future__ import annotations

import json

from sqlmodel import select

from servicedesk.benchmarking.hub import receive
from servicedesk.benchmarking.models import BenchmarkMember
from servicedesk.benchmarking.publish import publication
from servicedesk.benchmarking.sharing import participant_of, share
from tests.benchmarking.frozen import freeze


def test_share_show_withdraw(runner, db, make_org):
    orgs = [make_org(slug=f"k{n}") for n in range(5)]
    for n, org in enumerate(orgs):
        freeze(db, org, "2026-06", direct=(50 + n, 100))
    for org in orgs:
        result = runner.invoke(args=["benchmark", "share", "--org", org.slug, "--group", "B5"])
        assert result.exit_code == 0, result.output
    anon = runner.invoke(args=["benchmark", "share", "--org", "k0", "--anonymous"])
    assert "as Kommun A" in anon.output
    text = runner.invoke(args=["benchmark", "show", "--org", "k1", "--period", "2026-06"])
    assert text.exit_code == 0 and "4 of 5" in text.output
    as_json = runner.invoke(
        args=["benchmark", "show", "--org", "k1", "--period", "2026-06", "--format", "json"]
    )
    figures = json.loads(as_json.output)["figures"]
    assert figures[0]["own"]["place"] == 4
    bad = runner.invoke(args=["benchmark", "show", "--org", "k1", "--period", "June"])
    assert bad.exit_code != 0 and "YYYY-MM, YYYY-Qn or YYYY" in bad.output
    unknown = runner.invoke(args=["benchmark", "share", "--org", "k1", "--figure", "phone.offered"])
    assert unknown.exit_code != 0 and "--figure" in unknown.output
    assert runner.invoke(args=["benchmark", "withdraw", "--org", "k1"]).exit_code == 0
    refused = runner.invoke(args=["benchmark", "show", "--org", "k1", "--period", "2026-06"])
    assert refused.exit_code != 0 and "does not take part" in refused.output
    db.rollback()
    assert participant_of(db, orgs[1]).sharing is False


def test_members_and_history(runner, db, app, make_org):
    result = runner.invoke(
        args=["benchmark", "member", "add", "--key", "region", "--participant", "kumla"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("whsec_")
    again = runner.invoke(args=["benchmark", "member", "add", "--key", "region"])
    assert again.exit_code != 0 and "exists" in again.output
    assert runner.invoke(args=["benchmark", "member", "add", "--key", "Bad Key"]).exit_code != 0
    listed = runner.invoke(args=["benchmark", "member", "list"])
    assert "region/kumla" in listed.output and "not sharing" in listed.output
    # Two versions of one month received: the history says which counts.
    member = db.exec(select(BenchmarkMember)).one()
    kumla = make_org(slug="kumla")
    me = share(db, kumla)
    for version in (1, 2):
        report = freeze(db, kumla, "2026-06", version=version, direct=(40 + version, 100))
        receive(db, member, f"msg_{version}", publication(me, report))
    db.commit()
    history = runner.invoke(args=["benchmark", "history", "--month", "2026-06"])
    assert history.exit_code == 0, (history.output, history.exception)
    lines = history.output.strip().splitlines()
    assert lines[0].startswith("region/kumla\tv1") and lines[0].endswith("replaced by v2")
    assert lines[1].startswith("region/kumla\tv2") and lines[1].endswith("counts")
    assert runner.invoke(args=["benchmark", "member", "revoke", "--key", "region"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["benchmark", "member", "list"]).output
