"""One test per rule and per boundary of the group derivation (rules/groups.yaml)."""

from __future__ import annotations

import datetime as dt

import pytest

from guanai.registry.derivation import ChildFacts, Relief, Status, derive

D = dt.date
DAY = D(2026, 11, 29)
AWAY = Status("working_away", since=D(2025, 1, 10), work_place="广东省东莞市", cross_county=True)
HOME = Status("at_home")


def child(**kw) -> ChildFacts:
    base = {
        "birth_date": D(2015, 3, 7),
        "hukou_type": "agricultural",
        "village_code": "500230101201",
        "father": [HOME],
        "mother": [HOME],
    }
    base.update(kw)
    return ChildFacts(**base)


def groups(c: ChildFacts, day: dt.date = DAY) -> dict[str, str]:
    return {g.code: g.explanation for g in derive(c, day)}


class TestLeftBehind:
    def test_both_parents_away_cross_county_for_six_months_is_rural_left_behind(self):
        found = groups(child(father=[AWAY], mother=[AWAY]))
        assert set(found) == {"rural_left_behind"}
        assert found["rural_left_behind"] == (
            "农业户口；父亲外出务工已满6个月（跨县，自2025-01-10，广东省东莞市）；"
            "母亲外出务工已满6个月（跨县，自2025-01-10，广东省东莞市）"
        )

    def test_one_parent_away_and_the_other_incapable_is_left_behind(self):
        found = groups(child(father=[AWAY], mother=[Status("incapable")]))
        assert "母亲无监护能力" in found["rural_left_behind"]

    def test_one_parent_away_and_the_other_at_home_is_not(self):
        assert groups(child(father=[AWAY], mother=[HOME])) == {}

    @pytest.mark.parametrize(("since", "expected"), [(D(2026, 5, 29), True), (D(2026, 5, 30), False)])
    def test_six_months_away_is_the_boundary(self, since, expected):
        away = Status("working_away", since=since, cross_county=True)
        assert ("rural_left_behind" in groups(child(father=[away], mother=[away]))) is expected

    def test_working_away_within_the_county_does_not_count(self):
        near = Status("working_away", since=D(2024, 1, 1), cross_county=False)
        assert groups(child(father=[near], mother=[near])) == {}

    @pytest.mark.parametrize(
        ("birth", "expected"),
        [
            (D(2011, 11, 30), True),  # 15 on the day: turns 16 tomorrow
            (D(2010, 11, 29), False),  # 16 today
            (D(2009, 11, 29), False),  # 17
        ],
    )
    def test_left_behind_ends_at_sixteen(self, birth, expected):
        assert ("rural_left_behind" in groups(child(birth_date=birth, father=[AWAY], mother=[AWAY]))) is expected

    def test_an_urban_hukou_makes_it_urban_left_behind(self):
        found = groups(child(hukou_type="non_agricultural", father=[AWAY], mother=[AWAY]))
        assert set(found) == {"urban_left_behind"}

    @pytest.mark.parametrize(
        ("village", "group"), [("500230101201", "rural_left_behind"), ("500101001001", "urban_left_behind")]
    )
    def test_a_unified_resident_hukou_follows_the_residence(self, village, group):
        assert set(groups(child(hukou_type="resident", village_code=village, father=[AWAY], mother=[AWAY]))) == {group}

    def test_a_parent_who_came_home_ends_the_status(self):
        back = Status("working_away", since=D(2024, 1, 1), until=D(2026, 10, 1), cross_county=True)
        assert groups(child(father=[back, Status("at_home", since=D(2026, 10, 1))], mother=[AWAY])) == {}


class TestOrphanAndUnsupported:
    def test_both_parents_dead_is_an_orphan_in_guardianship_difficulty(self):
        found = groups(child(father=[Status("deceased", since=D(2020, 5, 1))], mother=[Status("missing")]))
        assert set(found) == {"orphan", "difficulty_guardianship"}
        assert found["orphan"] == "父亲已死亡（2020-05-01）；母亲被宣告失踪"

    @pytest.mark.parametrize(("birth", "expected"), [(D(2008, 11, 30), True), (D(2008, 11, 29), False)])
    def test_orphan_status_ends_at_eighteen(self, birth, expected):
        dead = [Status("deceased")]
        assert ("orphan" in groups(child(birth_date=birth, father=dead, mother=dead))) is expected

    def test_imprisoned_father_and_lost_mother_is_unsupported_with_a_readable_explanation(self):
        found = groups(
            child(
                father=[Status("imprisoned", since=D(2024, 3, 1), until=D(2027, 3, 1))],
                mother=[Status("lost_contact", since=D(2025, 1, 10))],
            )
        )
        assert found["unsupported"] == "父亲服刑在押至2027-03-01；母亲失联已满6个月（自2025-01-10）"
        assert "difficulty_guardianship" in found

    @pytest.mark.parametrize(("since", "expected"), [(D(2026, 5, 29), True), (D(2026, 5, 30), False)])
    def test_lost_contact_qualifies_after_six_months(self, since, expected):
        found = groups(child(father=[Status("deceased")], mother=[Status("lost_contact", since=since)]))
        assert ("unsupported" in found) is expected

    @pytest.mark.parametrize(("day", "expected"), [(D(2027, 2, 28), True), (D(2027, 3, 1), False)])
    def test_release_from_prison_ends_the_condition_on_the_release_date(self, day, expected):
        prison = Status("imprisoned", since=D(2024, 3, 1), until=D(2027, 3, 1))
        found = groups(child(birth_date=D(2015, 3, 7), father=[prison], mother=[Status("deceased")]), day)
        assert ("unsupported" in found) is expected

    def test_a_short_detention_does_not_qualify(self):
        short = Status("imprisoned", since=D(2026, 10, 1), until=D(2027, 3, 31))
        assert "unsupported" not in groups(child(father=[short], mother=[Status("deceased")]))

    @pytest.mark.parametrize(
        ("kind", "grade", "expected"),
        [
            ("肢体", 2, True),
            ("肢体", 3, False),
            ("智力", 3, True),
            ("精神", 4, True),
            ("视力", 4, False),
        ],
    )
    def test_severe_disability_follows_type_and_grade(self, kind, grade, expected):
        parent = Status("severe_disability", disability_type=kind, disability_grade=grade)
        assert ("unsupported" in groups(child(father=[parent], mother=[Status("deceased")]))) is expected

    def test_an_orphan_is_not_also_unsupported(self):
        assert "unsupported" not in groups(child(father=[Status("deceased")], mother=[Status("deceased")]))


class TestDifficultyAndSingleParent:
    def test_a_household_on_relief_is_living_difficulty(self):
        found = groups(child(relief=[Relief("rural_dibao", D(2024, 3, 1))]))
        assert found == {"difficulty_living": "家庭享受农村低保（自2024-03-01）"}

    def test_ended_relief_no_longer_counts(self):
        assert groups(child(relief=[Relief("rural_dibao", D(2024, 3, 1), D(2026, 11, 28))])) == {}

    def test_temporary_relief_alone_is_not_living_difficulty(self):
        assert groups(child(relief=[Relief("temporary", D(2026, 1, 1))])) == {}

    def test_own_disability_or_illness_is_health_difficulty(self):
        assert groups(child(disability_type="听力", disability_grade=2)) == {
            "difficulty_health": "儿童本人听力残疾二级"
        }
        assert "白血病" in groups(child(serious_illness="白血病"))["difficulty_health"]

    @pytest.mark.parametrize(("birth", "expected"), [(D(2008, 11, 30), True), (D(2008, 11, 29), False)])
    def test_difficulty_ends_at_eighteen(self, birth, expected):
        assert (
            "difficulty_health" in groups(child(birth_date=birth, disability_type="肢体", disability_grade=1))
        ) is expected

    def test_revoked_guardianship_is_guardianship_difficulty(self):
        assert "difficulty_guardianship" in groups(child(father=[Status("guardianship_revoked")]))

    def test_a_rural_child_with_one_parent_absent_is_single_parent(self):
        found = groups(child(father=[Status("divorced_absent", since=D(2022, 6, 1))]))
        assert found == {"rural_single_parent": "农业户口；父亲离异或不在家（自2022-06-01）"}

    def test_an_urban_single_parent_child_is_not_in_the_rural_group(self):
        assert groups(child(hukou_type="non_agricultural", father=[Status("divorced_absent")])) == {}

    def test_single_parent_and_left_behind_together(self):
        found = groups(child(father=[Status("deceased")], mother=[AWAY]))
        assert {"rural_left_behind", "rural_single_parent"} <= set(found)

    def test_no_parents_recorded_is_no_group(self):
        assert groups(child(father=None, mother=None)) == {}

    def test_an_unborn_date_yields_nothing(self):
        assert groups(child(birth_date=D(2027, 1, 1), disability_type="肢体", disability_grade=1)) == {}


def test_the_rule_file_is_validated():
    from guanai.registry.derivation import _known_fact
    from guanai.rules import check_condition

    with pytest.raises(ValueError, match="unknown fact"):
        check_condition({"fact": "father.happy"}, "x", _known_fact)
    with pytest.raises(ValueError, match="unknown operator"):
        check_condition({"xor": []}, "x", _known_fact)
    with pytest.raises(ValueError, match="non-empty list"):
        check_condition({"all": []}, "x", _known_fact)
