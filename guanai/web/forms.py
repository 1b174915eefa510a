"""Page forms of the registry. They parse what people type (dates in several formats, yes/no, empty optional
blocks) into the services' data classes; the rules themselves stay in ``registry.services``, whose domain
errors are put back next to the field they concern (``apply_domain_error``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from guanai.accounts.models import User
from guanai.accounts.scope import region_prefix
from guanai.lib import idnumber
from guanai.lib.errors import DomainError
from guanai.lib.parse import ParseError, parse_date
from guanai.regions.models import Region
from guanai.regions.selectors import regions_under
from guanai.registry.models import ChildRelation, HukouType, PersonStatus, Sex
from guanai.registry.selectors import AGE_BANDS
from guanai.registry.services import (
    DISABILITY_TYPES,
    EDITABLE,
    EXIT_REASONS,
    SCHOOLING,
    ChildData,
    PersonData,
    StatusData,
)

Choices = list[tuple[Any, Any]]

GRADES: Choices = [("", "—"), (1, "一级"), (2, "二级"), (3, "三级"), (4, "四级")]
CROSS_COUNTY: Choices = [("", "未填写"), ("1", "跨区县"), ("0", "本区县内")]
AGE_BAND_LABELS = {"0-5": "0–5岁", "6-11": "6–11岁", "12-15": "12–15岁", "16-17": "16–17岁"}
# Status kinds for which an end date, a work place or a disability is asked (the page shows them on demand).
KINDS_WITH_PLACE = ["working_away"]
KINDS_WITH_DISABILITY = ["severe_disability"]


# --- choices within the user's jurisdiction ----------------------------------------------------------------


def _by_parent(regions: list[Region], parents: dict[str, str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Regions grouped under their parent's name, in code order (an <optgroup> per township)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for region in regions:
        groups.setdefault(parents.get(region.parent_id or "", "其他"), []).append((region.code, region.name))
    return list(groups.items())


def village_choices(user: User) -> Choices:
    """The villages and communities a user may register children in, grouped by township when there are several."""
    prefix = region_prefix(user)
    if prefix is None:
        return []
    villages = list(regions_under(prefix, level=5).filter(is_active=True).order_by("code"))
    townships = dict(regions_under(prefix, level=4).values_list("code", "name"))
    groups = _by_parent(villages, townships)
    return list(groups[0][1]) if len(groups) == 1 else list(groups)


def region_filter_choices(user: User) -> Choices:
    """Areas to narrow the roster to: the one or two levels below the user's own region (a city: its districts;
    a district: its townships and their villages; a township: its villages)."""
    prefix = region_prefix(user)
    if prefix is None or user.region is None or user.region.level >= 5:
        return []
    level = user.region.level
    choices: Choices = [("", "全部区域")]
    for sub in {1: [3], 2: [3], 3: [4, 5], 4: [5]}[level]:
        regions = list(regions_under(prefix, level=sub).filter(is_active=True).order_by("code"))
        if sub == 5 and level == 3:
            townships = dict(regions_under(prefix, level=4).values_list("code", "name"))
            choices += [(f"{name}（村社区）", items) for name, items in _by_parent(regions, townships)]
        elif regions:
            label = {3: "区县", 4: "乡镇（街道）", 5: "村（社区）"}[sub]
            choices.append((label, [(r.code, r.name) for r in regions]))
    return choices


# --- fields ------------------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class FlexibleDateField(forms.DateField):
    """A date picker on phones; typed dates also accepted as 2015-03-07, 2015/3/7, 20150307, 2015年3月7日."""

    widget = DateInput

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        try:
            return parse_date(value)
        except ParseError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None


def _text(label: str, *, required: bool = False, max_length: int = 100, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length, widget=forms.TextInput(attrs=attrs))


def _id_field(label: str = "身份证号") -> forms.CharField:
    return _text(label, max_length=30, autocomplete="off", autocapitalize="characters", spellcheck="false")


def _phone_field() -> forms.CharField:
    return _text("联系电话", max_length=20, inputmode="tel", autocomplete="off")


def _clean_id_number(value: str) -> str:
    if not value:
        return ""
    try:
        return idnumber.parse(value).value
    except idnumber.IdNumberError as exc:
        raise forms.ValidationError(exc.message) from None


def _clean_phone(value: str) -> str:
    phone = idnumber.clean(value) if value else ""
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise forms.ValidationError("电话号码应为7至12位数字")
    return phone


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: each field message next to its field, the rest on top."""
    detail = error.detail if isinstance(error.detail, dict) else {}
    placed = False
    if error.code == "invalid":
        for key, message in detail.items():
            if key in form.fields:
                form.add_error(key, str(message))
                placed = True
            else:
                form.add_error(None, str(message))
                placed = True
    elif error.code == "duplicate_id" and "id_number" in form.fields:
        form.add_error("id_number", error.message)
        placed = True
    elif error.code == "out_of_scope" and "village_code" in form.fields:
        form.add_error("village_code", error.message)
        placed = True
    if not placed:
        form.add_error(None, error.message)


# --- the child ------------------------------------------------------------------------------------------


class ChildForm(forms.Form):
    """The child's part of the 登记表; also the edit form's fields."""

    name = _text("姓名", required=True, max_length=50, autocomplete="off")
    sex = forms.ChoiceField(label="性别", choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = FlexibleDateField(label="出生日期")
    id_number = _id_field()
    ethnicity = _text("民族", required=True, max_length=20)
    hukou_type = forms.ChoiceField(label="户籍性质", choices=HukouType.choices)
    village_code = forms.ChoiceField(label="所在村（社区）")
    hukou_address = _text("户籍地址", max_length=200)
    current_address = _text("现住址", max_length=200)
    health_status = _text("健康状况", max_length=40, list="health-options")
    disability_type = forms.ChoiceField(
        label="残疾类别", required=False, choices=[("", "无"), *[(t, f"{t}残疾") for t in DISABILITY_TYPES]]
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级", required=False, choices=GRADES, coerce=int, empty_value=None
    )
    serious_illness = _text("重病", max_length=60, placeholder="如白血病、先天性心脏病；无则不填")
    schooling = forms.ChoiceField(label="就学情况", required=False, choices=[("", "—"), *[(s, s) for s in SCHOOLING]])
    school_name = _text("学校名称", max_length=100)
    grade = _text("年级", max_length=20, placeholder="如三年级")
    boarding = forms.BooleanField(label="在校寄宿", required=False)

    def __init__(self, *args: Any, villages: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["village_code"]
        assert isinstance(field, forms.ChoiceField)
        only_one = len(villages) == 1 and not isinstance(villages[0][1], list)
        # A village director has one village: it is chosen for her; others pick from their jurisdiction.
        field.choices = villages if only_one else [("", "请选择"), *villages]
        if only_one:
            self.fields["village_code"].initial = villages[0][0]
        self.fields["ethnicity"].initial = "汉族"
        self.fields["health_status"].initial = "健康"
        self.fields["hukou_type"].initial = HukouType.AGRICULTURAL

    def clean_id_number(self) -> str:
        # The format is checked here so it is reported with the other fields; the service checks it against
        # the birth date and sex, and for duplicates.
        return _clean_id_number(self.cleaned_data.get("id_number", ""))

    def child_data(self) -> ChildData:
        values = {k: v for k, v in self.cleaned_data.items() if k in ChildData.__dataclass_fields__}
        values["health_status"] = values.get("health_status") or "健康"
        return ChildData(**values)


class RegisterForm(ChildForm):
    confirm_similar = forms.BooleanField(label="确认不是同一人，继续登记", required=False)


class ChildEditForm(ChildForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, id_mask: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].help_text = (
            f"当前为 {id_mask}；留空表示不修改，填写完整号码即更正" if id_mask else "尚未登记，可补填"
        )

    def changes(self) -> dict[str, Any]:
        """Only the fields the user changed (the ID number only when a new one was typed)."""
        changed = {name: self.cleaned_data[name] for name in self.changed_data if name in EDITABLE}
        if not self.cleaned_data.get("id_number"):
            changed.pop("id_number", None)
        if "health_status" in changed and not changed["health_status"]:
            changed["health_status"] = "健康"
        return changed


def child_edit_initial(child: Any) -> dict[str, Any]:
    initial = {name: getattr(child, name) for name in EDITABLE if name not in ("id_number", "village_code")}
    initial.update(village_code=child.village_id, version=child.version)
    return initial


# --- parents, carers, statuses ---------------------------------------------------------------------------


class StatusForm(forms.Form):
    """A parent's or carer's situation over a period (外出务工 since…, 服刑在押 until…, 失联 since…)."""

    kind = forms.ChoiceField(label="状况", choices=[("", "请选择"), *PersonStatus.Kind.choices])
    since = FlexibleDateField(label="起始日期", required=False, help_text="如外出务工、失联的开始日期")
    until = FlexibleDateField(label="截止日期", required=False, help_text="如服刑在押的刑满日期")
    work_place = _text("外出地点", max_length=100, placeholder="如广东省东莞市")
    cross_county = forms.TypedChoiceField(
        label="是否跨区县", required=False, choices=CROSS_COUNTY, coerce=lambda v: v == "1", empty_value=None
    )
    disability_type = forms.ChoiceField(
        label="残疾类别", required=False, choices=[("", "—"), *[(t, f"{t}残疾") for t in DISABILITY_TYPES]]
    )
    disability_grade = forms.TypedChoiceField(
        label="残疾等级", required=False, choices=GRADES, coerce=int, empty_value=None
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until <= since:
            self.add_error("until", "截止日期应晚于起始日期")
        return data

    def status_data(self) -> StatusData | None:
        data = self.cleaned_data
        if not data.get("kind"):
            return None
        away = data["kind"] in KINDS_WITH_PLACE
        disabled = data["kind"] in KINDS_WITH_DISABILITY
        return StatusData(
            kind=data["kind"],
            since=data.get("since"),
            until=data.get("until"),
            work_place=data.get("work_place", "") if away else "",
            cross_county=data.get("cross_county") if away else None,
            disability_type=data.get("disability_type", "") if disabled else "",
            disability_grade=data.get("disability_grade") if disabled else None,
        )


class PersonForm(StatusForm):
    """A parent in the registration form: optional as a whole, but a block that is started must be named."""

    relation_value = ""
    name = _text("姓名", max_length=50, autocomplete="off")
    id_number = _id_field()
    phone = _phone_field()
    is_guardian = forms.BooleanField(label="是监护人", required=False, initial=True)
    kind = forms.ChoiceField(label="目前状况", required=False, choices=[("", "未填写"), *PersonStatus.Kind.choices])

    field_order = ["name", "id_number", "phone", "is_guardian", "kind"]

    def __init__(self, *args: Any, relation: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relation_value = relation

    def clean_id_number(self) -> str:
        return _clean_id_number(self.cleaned_data.get("id_number", ""))

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        started = any(data.get(k) for k in ("id_number", "phone", "kind", "since", "until", "work_place"))
        if started and not data.get("name") and "name" not in self.errors:
            self.add_error("name", "填写了其他信息时，请填写姓名")
        return data

    def person_data(self) -> PersonData | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        status = self.status_data()
        return PersonData(
            relation=data.get("relation") or self.relation_value,
            name=data["name"],
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            is_guardian=bool(data.get("is_guardian")),
            is_entrusted_carer=bool(data.get("is_entrusted_carer")),
            statuses=[status] if status else [],
        )


CARER_RELATIONS = [
    (ChildRelation.Relation.GRANDPARENT, "祖父母/外祖父母"),
    (ChildRelation.Relation.OTHER_RELATIVE, "其他亲属"),
    (ChildRelation.Relation.SIBLING, "兄弟姐妹"),
    (ChildRelation.Relation.OTHER, "其他"),
]


class CarerForm(PersonForm):
    """The entrusted carer (委托照料人) who looks after the child while the parents are away."""

    relation = forms.ChoiceField(label="与儿童关系", choices=CARER_RELATIONS, required=False)
    is_guardian = forms.BooleanField(label="是监护人", required=False, initial=False)
    kind = forms.ChoiceField(label="照料人状况", required=False, choices=[("", "未填写"), *PersonStatus.Kind.choices])

    field_order = ["name", "relation", "id_number", "phone", "kind"]

    def person_data(self) -> PersonData | None:
        person = super().person_data()
        if person is not None:
            person.is_entrusted_carer = True
            person.relation = self.cleaned_data.get("relation") or ChildRelation.Relation.GRANDPARENT
        return person


class FamilyMemberForm(PersonForm):
    """Adding a parent, guardian or entrusted carer to an existing archive."""

    relation = forms.ChoiceField(label="与儿童关系", choices=ChildRelation.Relation.choices)
    name = _text("姓名", required=True, max_length=50, autocomplete="off")
    is_guardian = forms.BooleanField(label="是监护人", required=False, initial=False)
    is_entrusted_carer = forms.BooleanField(label="是委托照料人", required=False)

    field_order = ["relation", "name", "id_number", "phone", "is_guardian", "is_entrusted_carer", "kind"]


def registration_family_forms(data: Any = None) -> dict[str, PersonForm]:
    return {
        "father": PersonForm(data, prefix="father", relation=ChildRelation.Relation.FATHER),
        "mother": PersonForm(data, prefix="mother", relation=ChildRelation.Relation.MOTHER),
        "carer": CarerForm(data, prefix="carer"),
    }


# --- lifecycle and roster --------------------------------------------------------------------------------


class ExitForm(forms.Form):
    reason = forms.ChoiceField(label="退出原因", choices=[(r, r) for r in EXIT_REASONS])
    on = FlexibleDateField(label="退出日期")
    note = _text("说明", max_length=200, placeholder="选填")

    def __init__(self, *args: Any, today: dt.date, proposal: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["on"].initial = today
        if proposal:
            # Preselect the reason the rules proposed (年满16周岁…), or 其他 for a changed family situation.
            self.fields["reason"].initial = next((r for r in EXIT_REASONS if r in proposal), "其他")

    def clean_on(self) -> dt.date:
        on: dt.date = self.cleaned_data["on"]
        if on > self.today:
            raise forms.ValidationError("退出日期不能晚于今天")
        return on


class ReenterForm(forms.Form):
    note = _text("说明", max_length=200, placeholder="如：父母再次外出务工")


def age_band_choices() -> Choices:
    return [(key, AGE_BAND_LABELS.get(key, key)) for key in AGE_BANDS]
