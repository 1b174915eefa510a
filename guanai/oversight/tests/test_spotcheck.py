"""Annual archive spot check (§8): stratified reproducible sample, checklist review, rectification tasks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import DISTRICT, NEIGHBOUR_VILLAGE, OTHER_TOWNSHIP_VILLAGE, VILLAGE, client_for, make_child
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.oversight.models import RectificationTask, SpotCheck
from guanai.oversight.services import (
    checklist,
    spotcheck_close,
    spotcheck_draw,
    spotcheck_review,
    spotcheck_summary,
    stratified_sample,
)

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def test_the_sample_is_proportional_with_a_minimum_per_stratum_and_reproducible():
    population = {"a": list(range(100)), "b": list(range(100, 110)), "c": list(range(200, 202)), "d": []}
    sample = stratified_sample(population, size=20, seed=7)
    # 112 archives; one from each stratum first, then the other 17 by share: a 15.18, b 1.52, c 0.30 → 15, 1, 0,
    # and the last one to the largest remainder (b): a 16, b 3, c 1.
    assert {k: len(v) for k, v in sample.items()} == {"a": 16, "b": 3, "c": 1}
    assert sample == stratified_sample(population, size=20, seed=7)
    assert sample != stratified_sample(population, size=20, seed=8)
    assert sum(len(v) for v in stratified_sample(population, size=500, seed=1).values()) == 112


@pytest.fixture
def district_children(villages):
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        return [make_child(VILLAGE, f"一村{i}") for i in range(6)] + [
            make_child(NEIGHBOUR_VILLAGE, "二村"),
            make_child(OTHER_TOWNSHIP_VILLAGE, "社坛"),
        ]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_it_draws_reviews_assigns_rectification_and_closes(district_children, cast):
    charlie, alice = cast["charlie"], cast["alice"]
    check = spotcheck_draw(actor=charlie, district=DISTRICT, year=2026, size=4, seed=42, today=TODAY)
    assert (check.size, check.population) == (4, 8)
    townships = sorted({i.township_code for i in check.items.all()})
    assert townships == ["500230101000", "500230102000"]  # every township is represented
    again = [i.child_id for i in check.items.order_by("child_id")]

    item = check.items.filter(village_code=VILLAGE).first()
    answers = {c["id"]: "ok" for c in checklist()} | {"visits": "fail"}
    with pytest.raises(DomainError):
        spotcheck_review(actor=charlie, item=item, answers=answers, notes="", today=TODAY)  # fail needs notes
    spotcheck_review(actor=charlie, item=item, answers=answers, notes="补录10月走访", today=TODAY)
    task = RectificationTask.objects.get(item=item)
    assert task.assignee == alice  # the village's director
    assert task.due_date == dt.date(2026, 12, 20)
    assert "走访记录按期" in task.description

    with pytest.raises(DomainError) as exc:
        spotcheck_close(actor=charlie, check=check, summary="总体良好", today=TODAY)
    assert "未检查" in exc.value.message
    for other in check.items.exclude(pk=item.pk):
        spotcheck_review(actor=charlie, item=other, answers={c["id"]: "ok" for c in checklist()}, notes="", today=TODAY)
    spotcheck_close(actor=charlie, check=check, summary="总体良好", today=TODAY)
    summary = spotcheck_summary(SpotCheck.objects.get(pk=check.pk), today=TODAY)
    assert summary["total"] == {"sampled": 4, "reviewed": 4, "passed": 3, "failed": 1}
    assert summary["tasks"] == {"open": 1, "overdue": 0, "done": 0}
    assert AuditEvent.objects.filter(action="spotcheck.close").exists()

    # the same seed draws the same archives
    check.delete()
    redrawn = spotcheck_draw(actor=charlie, district=DISTRICT, year=2026, size=4, seed=42, today=TODAY)
    assert [i.child_id for i in redrawn.items.order_by("child_id")] == again


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_director_reports_the_rectification_on_her_task_page(district_children, cast):
    charlie, alice = cast["charlie"], cast["alice"]
    check = spotcheck_draw(actor=charlie, district=DISTRICT, year=2026, size=8, seed=1, today=TODAY)
    item = check.items.get(child=district_children[0])
    spotcheck_review(
        actor=charlie, item=item, answers={c["id"]: "fail" for c in checklist()}, notes="全面整改", today=TODAY
    )
    task = RectificationTask.objects.get(item=item)
    client = client_for(alice)
    assert "全面整改" in client.get("/oversight/tasks/").content.decode()
    client.post(f"/oversight/tasks/{task.pk}/done/", {"response": "已补齐档案"})
    task.refresh_from_db()
    assert (task.status, task.response) == ("done", "已补齐档案")


@pytest.mark.django_db
def test_only_officers_over_the_district_may_draw(district_children, cast):
    with pytest.raises(PermissionRefused):
        spotcheck_draw(actor=cast["bob"], district=DISTRICT, year=2026, size=3, seed=1, today=TODAY)
    with pytest.raises(PermissionRefused):
        spotcheck_draw(actor=cast["charlie"], district="500101000000", year=2026, size=3, seed=1, today=TODAY)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_pages_draw_and_review(district_children, cast):
    client = client_for(cast["charlie"])
    response = client.post("/oversight/spotchecks/", {"district": DISTRICT, "year": 2026, "size": 3, "seed": 5})
    check = SpotCheck.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/oversight/spotchecks/{check.pk}/"
    item = check.items.first()
    page = client.get(f"/oversight/spotchecks/items/{item.pk}/")
    assert page.status_code == 200 and "基本信息完整准确" in page.content.decode()
    form = {f"item_{c['id']}": "ok" for c in checklist()}
    client.post(f"/oversight/spotchecks/items/{item.pk}/", form)
    item.refresh_from_db()
    assert item.result == "passed"
    assert client_for(cast["alice"]).get(f"/oversight/spotchecks/{check.pk}/").status_code == 404
