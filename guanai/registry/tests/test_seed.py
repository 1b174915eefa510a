"""``guanai seed``: deterministic, valid and realistic demo data, written safely (or not at all)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from guanai import privacy
from guanai.audit.models import AuditEvent
from guanai.lib import dates, idnumber, pinyin, regioncode
from guanai.regions.models import Region
from guanai.regions.services import load_official
from guanai.registry import seed
from guanai.registry.models import BenefitEnrolment, Child, ChildRelation, Household, Person, PersonStatus

DISTRICTS = ("500230", "500101")  # 丰都县, 万州区
CITY = "500000000000"


@pytest.fixture
def regions(db: None) -> None:
    if not Region.objects.filter(code=CITY).exists():
        # A transactional test's flush empties the table the data migration filled; put it back.
        load_official(Region)


def plans(children: int, per_township: int = 1, seed_value: int = 7) -> list[seed.VillagePlan]:
    townships = seed.load_townships(seed.resolve_districts(DISTRICTS))
    return seed.plan_villages(townships, seed=seed_value, children=children, per_township=per_township)


def generate(seed_value: int, children: int = 200, **kw) -> seed.SeedData:
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return seed.generate(plans(children), seed=seed_value, children=children, created_at=stamp, workers=0, **kw)


def comparable(data: seed.SeedData) -> dict[str, list[tuple]]:
    """Every column except the ciphertexts, whose nonces are random."""
    out = {}
    for table in data.tables():
        fields = [f for f in table.fields if not f.endswith("_enc")]
        out[table.model.__name__] = list(zip(*(table.column(f) for f in fields), strict=True))
    return out


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(regions):
    first, again, other = generate(11), generate(11), generate(12)
    assert comparable(first) == comparable(again)
    assert first.children.column("name") != other.children.column("name")
    assert first.children.column("id_number_bidx") != other.children.column("id_number_bidx")
    assert first.counts()["children"] == 200


def test_worker_processes_give_the_same_data(regions):
    alone = generate(5, children=300)
    forked = seed.generate(
        plans(300), seed=5, children=300, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), workers=1
    )
    assert comparable(alone) == comparable(forked)
    for table, column in ((forked.children, "id_number"), (forked.people, "id_number")):
        for enc, bidx in zip(table.column(f"{column}_enc"), table.column(f"{column}_bidx"), strict=True):
            assert privacy.id_bidx(privacy.reveal(enc)) == bidx
    phones = [privacy.reveal(enc) for enc in forked.people.column("phone_enc") if enc]
    assert phones and all(len(phone) == 11 for phone in phones)


def test_ciphertexts_blind_indexes_and_masks_are_those_of_guanai_privacy(regions):
    data = generate(3)
    children = data.children
    for enc, bidx, mask in zip(
        children.column("id_number_enc"),
        children.column("id_number_bidx"),
        children.column("id_number_mask"),
        strict=True,
    ):
        number = privacy.reveal(enc)
        assert bidx == privacy.id_bidx(number)
        assert mask == idnumber.mask(number)
    people = data.people
    for enc, mask in zip(people.column("phone_enc"), people.column("phone_mask"), strict=True):
        if enc:
            phone = privacy.reveal(enc)
            assert mask == idnumber.mask_phone(phone)
            assert phone[:1] == "1" and phone[1] in "3456789" and len(phone) == 11
        else:
            assert mask == ""


def test_names_have_pinyin_keys_as_registration_writes_them(regions):
    data = generate(4)
    c = data.children
    for name, full, initials in zip(c.column("name"), c.column("name_pinyin"), c.column("name_initials"), strict=True):
        assert 2 <= len(name) <= 3
        assert full == pinyin.full(name) and initials == pinyin.initials(name)


def test_children_carry_their_fathers_surname_mostly(regions):
    data = generate(8, children=1000)
    fathers = {
        child: person
        for child, person, relation in zip(
            data.relations.column("child_id"),
            data.relations.column("person_id"),
            data.relations.column("relation"),
            strict=True,
        )
        if relation == "father"
    }
    person_names = dict(zip(data.people.column("id"), data.people.column("name"), strict=True))
    same = sum(
        person_names[fathers[pk]][0] == name[0]
        for pk, name in zip(data.children.column("id"), data.children.column("name"), strict=True)
    )
    assert same / 1000 > 0.9


def test_families_are_a_realistic_mix(regions):
    data = generate(9, children=3000)
    kinds: dict[int, list[str]] = {}
    since = {}
    for person, kind, start, until in zip(
        data.statuses.column("person_id"),
        data.statuses.column("kind"),
        data.statuses.column("since"),
        data.statuses.column("until"),
        strict=True,
    ):
        if until is None or until > "2026-01-01":  # the current situation
            kinds[person] = [*kinds.get(person, []), kind]
            since[person] = start
    by_child: dict[int, dict[str, int]] = {}
    carers: Counter[int] = Counter()
    for child, person, relation, carer in zip(
        data.relations.column("child_id"),
        data.relations.column("person_id"),
        data.relations.column("relation"),
        data.relations.column("is_entrusted_carer"),
        strict=True,
    ):
        by_child.setdefault(child, {})[relation] = person
        carers[child] += carer
    both_away = 0
    for child, rel in by_child.items():
        father, mother = kinds[rel["father"]], kinds[rel["mother"]]
        assert len(father) == len(mother) == 1  # one current situation per parent
        at_home = "at_home" in father or "at_home" in mother
        # Someone else cares for the child exactly when no parent is at home.
        assert carers[child] == (0 if at_home else 1)
        both_away += father == mother == ["working_away"]
    assert 0.28 <= both_away / len(by_child) <= 0.45
    current = Counter(k for ks in kinds.values() for k in ks)
    for kind in ("deceased", "imprisoned", "lost_contact", "severe_disability", "divorced_absent"):
        assert current[kind] > 0, kind
    benefits = Counter(data.benefits.column("kind"))
    assert benefits["rural_dibao"] and benefits["urban_dibao"]
    assert set(data.benefits.column("monthly_amount")) <= {610, 750, 975, 1625}
    disabled = [t for t in data.children.column("disability_type") if t]
    assert 0 < len(disabled) < 0.06 * 3000
    assert set(disabled) <= {"视力", "听力", "言语", "肢体", "智力", "精神", "多重"}


def test_schooling_agrees_with_age(regions):
    data = generate(10, children=2000)
    c = data.children
    for birth, schooling, school, grade in zip(
        c.column("birth_date"), c.column("schooling"), c.column("school_name"), c.column("grade"), strict=True
    ):
        age = dates.age_on(dt.date.fromisoformat(birth), seed.REFERENCE_DATE)
        assert 0 <= age <= 17
        if age < 6:
            assert schooling == "学龄前"
        else:
            assert schooling in {"在读", "辍学", "休学"}
        if schooling in {"在读", "休学"}:
            assert school and grade
        if schooling == "辍学":
            assert not school and age >= 12
        if 6 <= age <= 11 and schooling == "在读":
            assert grade.endswith("年级") and "小学" in school


@pytest.mark.django_db
def test_seeded_id_numbers_are_valid_unique_and_agree_with_the_records(regions):
    seed.seed_demo(seed.SeedOptions(seed=21, children=200, districts=DISTRICTS, villages_per_township=1))
    numbers = []
    for child in Child.objects.filter(is_demo=True):
        number = idnumber.parse(privacy.reveal(child.id_number_enc))
        assert number.birth_date == child.birth_date
        assert number.sex == child.sex
        assert number.place_code == child.village_id[:6]
        assert 0 <= dates.age_on(child.birth_date, seed.REFERENCE_DATE) <= 17
        assert child.id_number_bidx == privacy.id_bidx(number.value)
        assert child.child_no == f"C{child.pk:011d}"
        assert child.household is not None and child.household.village_id == child.village_id
        numbers.append(number.value)
    for person in Person.objects.filter(is_demo=True):
        number = idnumber.parse(privacy.reveal(person.id_number_enc))
        assert number.birth_date == person.birth_date and number.sex == person.sex
        numbers.append(number.value)
    assert len(numbers) == len(set(numbers))
    parents = Person.objects.filter(relations__relation__in=["father", "mother"]).distinct()
    assert all(p.birth_date and dt.date(1970, 1, 1) <= p.birth_date <= dt.date(2000, 12, 31) for p in parents)


@pytest.mark.django_db
def test_villages_are_demo_units_under_the_real_townships_of_the_districts(regions):
    result = seed.seed_demo(seed.SeedOptions(seed=22, children=200, districts=DISTRICTS, villages_per_township=2))
    villages = Region.objects.filter(level=5, is_demo=True)
    assert villages.count() == result.counts["villages"] == result.villages_created > 0
    kinds: Counter[tuple[bool, bool]] = Counter()
    for village in villages.select_related("parent"):
        township = village.parent
        assert township is not None
        assert village.source == "demo"
        assert township.level == 4 and not township.is_demo
        assert township.parent_id in {d.ljust(12, "0") for d in DISTRICTS}
        assert village.code.startswith(township.code[:9])
        community = regioncode.is_community(village.code)
        assert village.name.endswith("社区" if community else "村")
        assert 1 <= int(village.code[9:]) <= 399
        kinds[(township.name.endswith("街道"), community)] += 1
    # Streets are mostly communities, towns and xiang mostly villages.
    assert kinds[(True, True)] > kinds[(True, False)]
    assert kinds[(False, False)] > kinds[(False, True)]
    for household in Household.objects.filter(is_demo=True):
        expected = (
            {"agricultural"}
            if not regioncode.is_community(household.village_id)
            else {
                "resident",
                "non_agricultural",
            }
        )
        assert household.hukou_type in expected


@pytest.mark.django_db
def test_automatic_village_count_puts_a_few_hundred_children_in_each(regions):
    result = seed.seed_demo(seed.SeedOptions(seed=23, children=1200, districts=DISTRICTS, villages_per_township=0))
    assert result.counts["villages"] == 4


@pytest.mark.django_db
def test_an_unknown_or_non_county_district_writes_nothing(regions):
    before = (Region.objects.count(), AuditEvent.objects.count())
    for codes in ("500999", "500230,500999", "500230101000", "5002", "500105"):
        with pytest.raises(CommandError) as exc:
            call_command("seed", children=50, districts=codes, stdout=StringIO())
        assert "nothing was written" in str(exc.value) and "未写入任何数据" in str(exc.value)
    assert (Region.objects.count(), AuditEvent.objects.count()) == before
    assert not Child.objects.exists() and not Person.objects.exists() and not Household.objects.exists()


@pytest.mark.django_db
def test_existing_demo_data_is_refused_without_reset_and_replaced_with_it(regions):
    out = StringIO()
    call_command("seed", children=120, seed=1, stdout=out)
    assert "120 儿童 children" in out.getvalue()
    first = set(Child.objects.values_list("id_number_bidx", flat=True))
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed", children=80, seed=2, stdout=StringIO())
    assert Child.objects.count() == 120

    call_command("seed", children=80, seed=2, reset=True, stdout=StringIO())
    assert Child.objects.count() == 80
    assert Person.objects.filter(is_demo=True).count() == Person.objects.count()
    assert not first & set(Child.objects.values_list("id_number_bidx", flat=True))
    assert not ChildRelation.objects.filter(child__isnull=True).exists()
    assert PersonStatus.objects.count() >= Person.objects.count()
    events = AuditEvent.objects.filter(action="demo.seed").order_by("id")
    assert [(e.after or {})["children"] for e in events] == [120, 80]
    last = events.last()
    assert last is not None and (last.after or {})["deleted"]["children"] == 120


@pytest.mark.django_db
def test_new_rows_after_a_seed_get_fresh_ids(regions):
    seed.seed_demo(seed.SeedOptions(seed=24, children=60, districts=DISTRICTS, villages_per_township=1))
    village = Child.objects.values_list("village_id", flat=True).get(pk=Child.objects.earliest("pk").pk)
    household = Household.objects.create(hukou_type="agricultural", village_id=village)
    assert household.pk > max(Household.objects.filter(is_demo=True).values_list("pk", flat=True))
    benefit = BenefitEnrolment.objects.create(household=household, kind="rural_dibao", start=dt.date(2025, 1, 1))
    assert benefit.pk > 0


def _schema() -> dict[str, dict[str, tuple]]:
    with connection.cursor() as cursor:
        return {
            model._meta.db_table: {
                name: (tuple(c["columns"]), c["unique"], c["foreign_key"], c["index"])
                for name, c in connection.introspection.get_constraints(cursor, model._meta.db_table).items()
            }
            for model in (Household, Person, PersonStatus, Child, ChildRelation, BenefitEnrolment)
        }


@pytest.mark.django_db
def test_indexes_and_foreign_keys_dropped_for_the_bulk_load_are_all_back(regions):
    before = _schema()
    seed.seed_demo(seed.SeedOptions(seed=25, children=80, districts=DISTRICTS, villages_per_township=1))
    assert _schema() == before
    if connection.vendor == "postgresql":
        # The foreign keys are enforced again: a status pointing nowhere is refused.
        with pytest.raises(IntegrityError), transaction.atomic():
            PersonStatus.objects.create(person_id=10**9, kind="at_home")
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db
def test_a_reseed_with_the_same_seed_writes_the_same_people(regions):
    def snapshot() -> list[tuple]:
        children = Child.objects.values_list("name", "birth_date", "id_number_bidx", "id_number_mask", "village_id")
        people = Person.objects.values_list("name", "birth_date", "id_number_bidx", "phone_mask")
        return sorted(children) + sorted(people)

    options = seed.SeedOptions(seed=26, children=150, districts=DISTRICTS)
    seed.seed_demo(options)
    first = snapshot()
    seed.seed_demo(seed.SeedOptions(seed=26, children=150, districts=DISTRICTS, reset=True))
    assert snapshot() == first
