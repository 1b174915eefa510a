from __future__ import annotations

import datetime as dt

import pytest

from conftest import NEIGHBOUR_VILLAGE, OTHER_DISTRICT_COMMUNITY, VILLAGE, make_id_number
from guanai import privacy
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError
from guanai.registry import services as svc
from guanai.registry.groups import children_due_for_refresh, groups_refresh
from guanai.registry.models import Child, ChildGroup, PersonStatus

TODAY = dt.date(2026, 11, 29)
BIRTH = dt.date(2015, 3, 7)


def data(**kw) -> svc.ChildData:
    base = {
        "name": "王小明",
        "sex": "M",
        "birth_date": BIRTH,
        "village_code": VILLAGE,
        "hukou_type": "agricultural",
        "id_number": make_id_number(VILLAGE, BIRTH, male=True),
    }
    base.update(kw)
    return svc.ChildData(**base)


AWAY = svc.StatusData("working_away", since=dt.date(2025, 1, 10), work_place="广东省东莞市", cross_county=True)


def parents_away() -> list[svc.PersonData]:
    return [
        svc.PersonData("father", "王大山", statuses=[AWAY]),
        svc.PersonData("mother", "李秀兰", phone="13812345678", statuses=[AWAY]),
        svc.PersonData("grandparent", "王奶奶", is_entrusted_carer=True, statuses=[svc.StatusData("at_home")]),
    ]


def test_registering_a_left_behind_child_derives_the_group_and_puts_it_on_the_roll(cast):
    child = svc.child_register(actor=cast["alice"], data=data(), family=parents_away(), today=TODAY)
    assert child.status == Child.Status.ACTIVE
    assert child.child_no == f"C{child.pk:011d}"
    assert child.name_pinyin == "wangxiaoming" and child.name_initials == "wxm"
    group = ChildGroup.objects.get(child=child)
    assert group.code == "rural_left_behind"
    assert "父亲外出务工已满6个月" in group.explanation
    kinds = list(child.timeline.order_by("id").values_list("kind", flat=True))
    assert kinds[:2] == ["child.register", "group.add"]
    assert AuditEvent.objects.filter(action="child.register", object_id=str(child.pk)).exists()


def test_a_child_with_no_group_stays_registered_and_is_proposed_for_exit(cast):
    child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
    assert child.status == Child.Status.REGISTERED
    assert child.exit_proposal


def test_the_same_id_number_is_refused_with_the_existing_child(cast):
    number = make_id_number(VILLAGE, BIRTH, male=True)
    first = svc.child_register(actor=cast["alice"], data=data(id_number=number), today=TODAY)
    with pytest.raises(DomainError) as err:
        svc.child_register(actor=cast["alice"], data=data(name="王晓明", id_number=number.lower()), today=TODAY)
    assert err.value.code == "duplicate_id"
    assert first.child_no in err.value.message
    assert Child.objects.count() == 1


def test_same_name_and_birth_date_in_the_township_warns_until_confirmed(cast):
    svc.child_register(actor=cast["alice"], data=data(id_number=""), today=TODAY)
    bob = cast["bob"]
    with pytest.raises(DomainError) as err:
        svc.child_register(actor=bob, data=data(id_number="", village_code=NEIGHBOUR_VILLAGE), today=TODAY)
    assert err.value.code == "possible_duplicate"
    svc.child_register(
        actor=bob, data=data(id_number="", village_code=NEIGHBOUR_VILLAGE), today=TODAY, confirm_similar=True
    )
    assert Child.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"birth_date": dt.date(2016, 3, 7)}, "id_number", "出生日期"),
        ({"sex": "F"}, "id_number", "性别"),
        ({"birth_date": dt.date(2027, 1, 1)}, "birth_date", "不能晚于今天"),
        ({"village_code": "500230101999"}, "village_code", "不存在"),
        ({"village_code": "50x"}, "village_code", "只能包含数字"),
        ({"id_number": "50023020150307001Z"}, "id_number", "最后一位"),
        ({"name": " "}, "name", "不能为空"),
        ({"disability_type": "肢体"}, "disability_grade", "同时填写"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(cast, change, field, message):
    with pytest.raises(DomainError) as err:
        svc.child_register(actor=cast["alice"], data=data(**change), today=TODAY)
    assert message in err.value.detail[field]
    assert not Child.objects.exists()


def test_a_director_cannot_register_outside_her_village(cast):
    with pytest.raises(DomainError) as err:
        svc.child_register(
            actor=cast["alice"],
            data=data(village_code=NEIGHBOUR_VILLAGE, id_number=make_id_number(NEIGHBOUR_VILLAGE, BIRTH, True)),
            today=TODAY,
        )
    assert err.value.code == "out_of_scope"


def test_partners_cannot_register(cast, villages):
    from conftest import make_user

    with pytest.raises(DomainError) as err:
        svc.child_register(actor=make_user("partner_police"), data=data(), today=TODAY)
    assert err.value.status == 403


class TestEdits:
    def test_an_edit_bumps_the_version_and_is_audited_and_shown(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
        edited = svc.child_update(
            actor=cast["alice"],
            pk=child.pk,
            expected_version=1,
            changes={"school_name": "虎威镇中心小学", "schooling": "在读"},
            today=TODAY,
        )
        assert edited.version == 2
        event = AuditEvent.objects.get(action="child.update")
        assert event.after == {"school_name": "虎威镇中心小学", "schooling": "在读", "version": 2}
        line = edited.timeline.filter(kind="child.update").get()
        assert "学校名称：空 → 虎威镇中心小学" in line.summary

    def test_a_stale_save_is_refused_naming_what_changed(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
        svc.child_update(
            actor=cast["bob"], pk=child.pk, expected_version=1, changes={"current_address": "三组12号"}, today=TODAY
        )
        with pytest.raises(DomainError) as err:
            svc.child_update(
                actor=cast["alice"], pk=child.pk, expected_version=1, changes={"grade": "五年级"}, today=TODAY
            )
        assert err.value.code == "stale"
        assert "现住址" in err.value.message
        assert Child.objects.get(pk=child.pk).grade == ""

    def test_moving_a_child_outside_ones_jurisdiction_is_refused(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
        with pytest.raises(DomainError) as err:
            svc.child_update(
                actor=cast["alice"],
                pk=child.pk,
                expected_version=1,
                changes={"village_code": OTHER_DISTRICT_COMMUNITY},
                today=TODAY,
            )
        assert err.value.code == "out_of_scope"

    def test_correcting_the_id_number_updates_the_blind_index(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
        new = make_id_number(VILLAGE, BIRTH, male=True)
        svc.child_update(actor=cast["alice"], pk=child.pk, expected_version=1, changes={"id_number": new}, today=TODAY)
        assert Child.objects.get(id_number_bidx=privacy.id_bidx(new)).pk == child.pk

    def test_unknown_fields_are_refused(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
        with pytest.raises(DomainError):
            svc.child_update(
                actor=cast["alice"], pk=child.pk, expected_version=1, changes={"status": "exited"}, today=TODAY
            )


class TestLifecycle:
    def test_a_parent_returning_home_removes_the_group_and_proposes_exit(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), family=parents_away(), today=TODAY)
        father = child.relations.get(relation="father").person
        svc.person_status_add(
            actor=cast["alice"],
            child_pk=child.pk,
            person_pk=father.pk,
            status=svc.StatusData("at_home", since=TODAY),
            today=TODAY,
        )
        child.refresh_from_db()
        assert not child.groups.exists()
        assert child.exit_proposal == "父母返乡或情况变化，不再符合关爱条件"
        assert child.status == Child.Status.ACTIVE  # proposed, not silently removed
        assert PersonStatus.objects.get(person=father, kind="working_away").until == TODAY
        assert child.timeline.filter(kind="group.remove").exists()

    def test_exit_and_reentry_keep_the_history(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), family=parents_away(), today=TODAY)
        svc.child_exit(actor=cast["alice"], pk=child.pk, reason="父母返乡", on=TODAY)
        with pytest.raises(DomainError):
            svc.child_exit(actor=cast["alice"], pk=child.pk, reason="父母返乡", on=TODAY)
        again = svc.child_reenter(actor=cast["alice"], pk=child.pk, today=TODAY)
        assert again.status == Child.Status.ACTIVE
        kinds = set(again.timeline.values_list("kind", flat=True))
        assert {"child.register", "child.exit", "child.reenter"} <= kinds

    def test_a_bad_exit_reason_is_refused(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), today=TODAY)
        with pytest.raises(DomainError):
            svc.child_exit(actor=cast["alice"], pk=child.pk, reason="不想要了", on=TODAY)


class TestDailyRefresh:
    def test_a_sixteenth_birthday_ends_left_behind_status_on_the_day(self, cast):
        birth = dt.date(2010, 11, 29)
        child = svc.child_register(
            actor=cast["alice"],
            data=data(birth_date=birth, id_number=make_id_number(VILLAGE, birth, True)),
            family=parents_away(),
            today=dt.date(2026, 11, 28),
        )
        assert child.groups.filter(code="rural_left_behind").exists()
        assert child.pk in children_due_for_refresh(TODAY)
        groups_refresh(child_ids=children_due_for_refresh(TODAY), today=TODAY)
        child.refresh_from_db()
        assert not child.groups.exists()
        assert child.exit_proposal == "年满16周岁"

    def test_lost_contact_reaching_six_months_is_picked_up(self, cast):
        family = [
            svc.PersonData("father", "王大山", statuses=[svc.StatusData("deceased")]),
            svc.PersonData("mother", "李秀兰", statuses=[svc.StatusData("lost_contact", since=dt.date(2026, 5, 29))]),
        ]
        child = svc.child_register(actor=cast["alice"], data=data(), family=family, today=dt.date(2026, 11, 28))
        assert not child.groups.filter(code="unsupported").exists()
        assert child.pk in children_due_for_refresh(TODAY)
        groups_refresh(child_ids=[child.pk], today=TODAY)
        assert child.groups.get(code="unsupported").explanation == "父亲已死亡；母亲失联已满6个月（自2026-05-29）"

    def test_a_release_date_is_picked_up_on_the_day(self, cast):
        family = [
            svc.PersonData(
                "father", "王大山", statuses=[svc.StatusData("imprisoned", since=dt.date(2024, 1, 1), until=TODAY)]
            ),
            svc.PersonData("mother", "李秀兰", statuses=[svc.StatusData("deceased")]),
        ]
        child = svc.child_register(actor=cast["alice"], data=data(), family=family, today=dt.date(2026, 11, 28))
        assert child.groups.filter(code="unsupported").exists()
        assert child.pk in children_due_for_refresh(TODAY)
        groups_refresh(child_ids=[child.pk], today=TODAY)
        assert not child.groups.filter(code="unsupported").exists()

    def test_a_refresh_with_nothing_new_changes_nothing(self, cast):
        child = svc.child_register(actor=cast["alice"], data=data(), family=parents_away(), today=TODAY)
        lines = child.timeline.count()
        assert groups_refresh(child_ids=[child.pk], today=TODAY) == 0
        assert child.timeline.count() == lines


def test_the_daily_refresh_command_rederives_due_children(cast, capsys):
    from django.core.management import call_command

    birth = dt.date(2010, 11, 29)
    child = svc.child_register(
        actor=cast["alice"],
        data=data(birth_date=birth, id_number=make_id_number(VILLAGE, birth, True)),
        family=parents_away(),
        today=dt.date(2026, 11, 28),
    )
    call_command("registry", "refresh", "--date", "2026-11-29")
    assert "1 changed" in capsys.readouterr().out
    assert not child.groups.exists()
    call_command("registry", "refresh", "--all", "--date", "2026-11-29")
    assert "0 changed" in capsys.readouterr().out
