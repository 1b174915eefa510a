from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import DISTRICT, client_for
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.oversight.models import MilestoneProgress
from guanai.oversight.services import milestone_rules, milestone_update

pytestmark = [pytest.mark.django_db]


def test_the_plan_timeline_is_data_with_sources():
    ids = [m["id"] for m in milestone_rules()]
    assert ids[:2] == ["implementation_plan", "census_and_archives"]
    assert next(m for m in milestone_rules() if m["id"] == "implementation_plan")["due"] == dt.date(2024, 3, 31)
    assert all(m["source"] for m in milestone_rules())


def test_a_district_records_a_milestone_with_evidence_and_the_city_sees_it(cast, villages, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = SimpleUploadedFile("方案.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    milestone_update(
        actor=cast["charlie"],
        district=DISTRICT,
        milestone="implementation_plan",
        done_on=dt.date(2024, 3, 20),
        note="已报送",
        evidence=evidence,
    )
    row = MilestoneProgress.objects.get()
    assert row.evidence_name == "方案.pdf"
    page = client_for(cast["diana"]).get("/oversight/milestones/").content.decode()
    assert "2024-03-20" in page
    download = client_for(cast["charlie"]).get(f"/oversight/milestones/{row.pk}/evidence/")
    assert download.status_code == 200
    with pytest.raises(DomainError):
        milestone_update(actor=cast["charlie"], district=DISTRICT, milestone="unknown", done_on=None, note="")
    with pytest.raises(DomainError):
        milestone_update(
            actor=cast["charlie"],
            district=DISTRICT,
            milestone="goals_met",
            done_on=None,
            note="",
            evidence=SimpleUploadedFile("x.exe", b"MZ"),
        )
    with pytest.raises(PermissionRefused):
        milestone_update(actor=cast["charlie"], district="500101000000", milestone="goals_met", done_on=None, note="")
