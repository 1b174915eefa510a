from __future__ import annotations

import datetime as dt

import time_machine

from conftest import client_for
from guanai.registry.models import Child
from guanai.visits.models import Visit

NOW = dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW)
def test_record_a_visit_and_read_the_worklist(cast, children):
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    client = client_for(cast["alice"])
    child = children["village"]
    before = client.get("/api/v1/visits/worklist/").json()
    assert before[0]["obligations"][0]["state"] == "已逾期"
    body = {
        "child": child.pk,
        "mode": "home",
        "visited_at": "2026-11-20T14:00:00+08:00",
        "client_key": "k-1",
        "checklist": {"safety": {"status": "正常"}},
        "problems": [{"category": "living", "description": "缺冬衣"}],
    }
    created = client.post("/api/v1/visits/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    again = client.post("/api/v1/visits/", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert Visit.objects.count() == 1
    after = client.get("/api/v1/visits/worklist/", {"on": "2026-11-20"}).json()
    assert {o["state"] for o in after[0]["obligations"]} == {"已完成"}
    table = client_for(cast["charlie"]).get("/api/v1/visits/completion/", {"level": "4"}).json()
    assert {r["code"]: r["contacted"] for r in table}["500230101000"] == 1


@time_machine.travel(NOW)
def test_api_errors_keep_the_one_shape(cast, children):
    client = client_for(cast["alice"])
    future = client.post(
        "/api/v1/visits/",
        {"child": children["village"].pk, "mode": "phone", "visited_at": "2026-12-01T10:00:00+08:00"},
        content_type="application/json",
    )
    assert future.status_code == 400
    assert future.json()["error"]["code"] == "future"
    outside = client.post(
        "/api/v1/visits/",
        {"child": children["other_district"].pk, "mode": "phone", "visited_at": "2026-11-20T10:00:00+08:00"},
        content_type="application/json",
    )
    assert outside.status_code == 404
    assert client.get("/api/v1/visits/worklist/", {"on": "someday"}).json()["error"]["code"] == "bad_date"
    assert client_for(cast["frank"]).get("/api/v1/visits/worklist/").status_code == 403


@time_machine.travel(NOW)
def test_the_worklist_is_paged_with_its_counts_in_headers(cast, children):
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    client = client_for(cast["bob"])  # the township: two children
    first = client.get("/api/v1/visits/worklist/", {"per_page": "1"})
    assert first.status_code == 200 and len(first.json()) == 1
    assert (first["X-Total-Count"], first["X-Page"], first["X-Per-Page"]) == ("2", "1", "1")
    assert first["X-Tab-Counts"] == "todo=2;overdue=2;contact=2;home=2;done=0"
    second = client.get("/api/v1/visits/worklist/", {"per_page": "1", "page": "5"})
    assert second["X-Page"] == "2" and second.json()[0]["child_id"] != first.json()[0]["child_id"]
    assert client.get("/api/v1/visits/worklist/", {"tab": "done"}).json() == []
    for params, code in (({"page": "0"}, "bad_page"), ({"per_page": "500"}, "bad_per_page"), ({"tab": "x"}, "bad_tab")):
        response = client.get("/api/v1/visits/worklist/", params)
        assert response.status_code == 400 and response.json()["error"]["code"] == code
