"""The dashboard reads snapshots, is scoped to the jurisdiction, drills down, sorts the worst areas first and
suppresses small counts for partner departments."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import DISTRICT, OTHER_DISTRICT, OTHER_TOWNSHIP, TOWNSHIP, VILLAGE, client_for, make_user
from guanai.oversight.models import KpiSnapshot

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db]


def put(kpi: str, code: str, level: int, period: str, num: int, den: int | None) -> None:
    starts = {
        "2026-11": dt.date(2026, 11, 1),
        "2026-10": dt.date(2026, 10, 1),
        "2026-Q4": dt.date(2026, 10, 1),
        "2026": dt.date(2026, 1, 1),
    }
    KpiSnapshot.objects.create(
        kpi=kpi,
        region_code=code,
        level=level,
        period=period,
        period_start=starts[period],
        period_end=dt.date(2026, 12, 31),
        as_of=dt.date(2026, 11, 20),
        numerator=num,
        denominator=den,
        value=round(100 * num / den, 2) if den else float(num),
        rule_version=1,
        computed_at=NOW,
    )


@pytest.fixture
def snapshots(villages):
    put("contact_rate", DISTRICT, 3, "2026-11", 90, 120)
    put("contact_rate", DISTRICT, 3, "2026-10", 60, 120)
    put("contact_rate", TOWNSHIP, 4, "2026-11", 80, 100)
    put("contact_rate", OTHER_TOWNSHIP, 4, "2026-11", 10, 20)
    put("contact_rate", VILLAGE, 5, "2026-11", 3, 4)
    put("contact_rate", OTHER_DISTRICT, 3, "2026-11", 1, 1)


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_district_its_townships_worst_first_with_the_trend(snapshots, cast):
    response = client_for(cast["charlie"]).get("/api/v1/oversight/dashboard/")
    assert response.status_code == 200
    body = response.json()
    assert body["region"]["code"] == DISTRICT
    contact = next(k for k in body["kpis"] if k["id"] == "contact_rate")
    assert contact["current"]["value"] == 75.0
    assert [t["period"] for t in contact["trend"]] == ["2026-10", "2026-11"]
    # 社坛镇 (50%) before 虎威镇 (80%)
    assert [a["code"] for a in body["areas"]] == [OTHER_TOWNSHIP, TOWNSHIP]
    assert body["suppressed"] is False


@time_machine.travel(NOW, tick=False)
def test_it_drills_down_to_a_township_and_refuses_another_district(snapshots, cast):
    client = client_for(cast["charlie"])
    page = client.get(f"/oversight/?region={TOWNSHIP}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "虎威镇" in text and "测试一村" in text and "80.0%" in text
    assert client.get(f"/oversight/?region={OTHER_DISTRICT}").status_code == 404
    assert client.get("/api/v1/oversight/dashboard/?region=500101000000").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_partner_departments_see_small_counts_suppressed(snapshots, villages):
    partner = make_user("partner_education", DISTRICT, "edu")
    body = client_for(partner).get(f"/api/v1/oversight/dashboard/?region={TOWNSHIP}").json()
    assert body["suppressed"] is True
    village = next(a for a in body["areas"] if a["code"] == VILLAGE)
    assert village["values"]["contact_rate"] == {
        **village["values"]["contact_rate"],
        "numerator": "<5",
        "denominator": "<5",
        "value": "—",
    }
    page = client_for(partner).get(f"/oversight/?region={TOWNSHIP}").content.decode()
    assert "&lt;5" in page or "<5" in page


@time_machine.travel(NOW, tick=False)
def test_roles_without_statistics_cannot_open_it(cast):
    assert client_for(cast["frank"]).get("/oversight/").status_code == 403
    assert client_for(cast["frank"]).get("/api/v1/oversight/dashboard/").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_the_page_loads_echarts_from_our_static_files_only(snapshots, cast):
    text = client_for(cast["diana"]).get("/oversight/").content.decode()
    assert "/static/oversight/vendor/echarts.min.js" in text
    assert "cdn" not in text.lower() and "https://" not in text


def test_kpi_definitions_are_listed(cast):
    body = client_for(cast["charlie"]).get("/api/v1/oversight/kpis/").json()
    ids = {k["id"] for k in body}
    assert {"contact_rate", "benefit_coverage", "orgs_cultivated"} <= ids
    assert {k["status"] for k in body} == {"active"}  # every definition of the rule file is computed
    assert next(k for k in body if k["id"] == "benefit_coverage")["source"].startswith("§9")


def test_an_officer_refreshes_the_snapshots_as_a_job(cast, villages):
    from guanai.jobs.models import Job

    response = client_for(cast["charlie"]).post("/oversight/refresh/")
    job = Job.objects.get(kind="oversight.kpi_refresh")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == "succeeded" and job.result["快照行数"] > 0  # inline in tests
    assert KpiSnapshot.objects.filter(kpi="orgs_cultivated", region_code=DISTRICT).exists()
    assert client_for(cast["alice"]).post("/oversight/refresh/").status_code == 403
