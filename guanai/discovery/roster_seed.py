"""Synthetic department rosters for a seeded registry (``guanai seed --rosters DIR``), with controlled, documented
noise and the ground truth written apart (``DIR/truth/``), for the linkage and rule quality benchmark.

What is written (all CSV with the contract headers, see docs/rosters.md):
- ``household.csv``: every registry child with their parents (户主/妻), plus ``extra`` unregistered families
  (father, mother, one child) per registry child;
- ``education.csv``: children of school age, registry and extra; planted 辍学 rows and registry children left out;
- ``migrant.csv``: the registry parents' open 外出务工 statuses, and planted migrations of extra parents;
- ``disability.csv``: registry children with a disability, planted certificates of extra children;
- ``assistance.csv``: the registry's benefit enrolments (a household's on the head's ID number).

Planted cases (ground truth in ``truth/findings.csv``): unregistered left-behind children (both parents away
across counties ≥ 6 months, or one away and the other imprisoned), near misses that must *not* fire (one parent
away, a recent departure, a departure within the county), dropouts (辍学 in the roster, or absent from it),
de-facto unsupported candidates (one parent imprisoned, the other dead), disability certificates of unregistered
children, and registry children the police record as dead or moved away. The police roster carries only planted
status changes; every other person is 正常, so that the truth is exact.

Noise (per written row, independently; rates in ``NOISE``; counts in ``truth/noise.json``): ID number missing,
one digit wrong, two adjacent digits swapped, a lower-case x, full-width digits, 15-digit legacy numbers for
adults born before 1984; a homophone or variant character in the name (小/晓, 静/婧, 曾/增…), a southwestern
dialect spelling (林/凌, 陈/程, 南/兰); day and month swapped; dates in five formats; abbreviated addresses.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from guanai import privacy
from guanai.lib import idnumber
from guanai.lib.dates import add_months, age_on
from guanai.lib.rosters import TEMPLATES

NOISE: dict[str, float] = {
    "id_missing": 0.03,
    "id_one_digit": 0.02,
    "id_transposed": 0.01,
    "id_lower_x": 0.5,  # of numbers ending in X
    "id_fullwidth": 0.02,
    "id_legacy15": 0.3,  # of adults born before 1984
    "name_homophone": 0.04,
    "name_dialect": 0.01,
    "date_swapped": 0.02,
    "date_fullwidth": 0.02,
    "address_abbreviated": 0.3,
}
PLANT: dict[str, float] = {
    "extra_families": 1.0,  # unregistered families per registry child
    "left_behind": 0.25,
    "one_away": 0.08,
    "recent": 0.04,
    "within_county": 0.03,
    "away_and_imprisoned": 0.03,
    "defacto": 0.02,
    "extra_disability": 0.02,
    "dropout": 0.01,
    "absent": 0.02,
    "registry_defacto": 0.005,
    "registry_exit": 0.005,
}
HOMOPHONES = {
    "小": "晓",
    "晓": "小",
    "明": "鸣",
    "静": "婧",
    "婧": "静",
    "红": "虹",
    "军": "君",
    "华": "桦",
    "伟": "玮",
    "丽": "莉",
    "文": "雯",
    "宇": "雨",
    "欣": "新",
    "婷": "亭",
    "芳": "方",
    "涛": "韬",
    "浩": "皓",
    "刚": "钢",
    "平": "萍",
    "英": "莹",
    "梅": "玫",
    "兰": "岚",
    "杰": "洁",
    "俊": "峻",
    "琳": "霖",
    "佳": "家",
    "怡": "宜",
    "曾": "增",
    "刘": "柳",
    "张": "章",
    "王": "汪",
    "李": "理",
    "杨": "阳",
    "黄": "皇",
    "周": "舟",
    "吴": "伍",
}
DIALECT = {"林": "凌", "陈": "程", "南": "兰", "宁": "玲", "金": "京", "成": "岑", "张": "臧", "周": "邹", "朱": "租"}
FORMATS = ["%Y-%m-%d", "{y}/{m}/{d}", "%Y%m%d", "{y}年{m}月{d}日", "%Y.%m.%d"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢傅钟"
GIVEN = "小明晓红军华伟丽文宇欣婷芳涛浩刚平英梅兰杰俊琳佳怡思雨子轩博涵一诺梓萱浩然雅静建国秀英志强海燕"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class Result:
    rows: dict[str, int] = field(default_factory=dict)
    truth_links: int = 0
    truth_findings: dict[str, int] = field(default_factory=dict)
    noise: Counter[str] = field(default_factory=Counter)


class _Writer:
    def __init__(self, folder: Path, source: str) -> None:
        self.headers = [c.header for c in TEMPLATES[source]]
        self.fh = (folder / f"{source}.csv").open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(self.headers)
        self.count = 0

    def add(self, row: dict[str, Any]) -> int:
        self.writer.writerow([row.get(h, "") for h in self.headers])
        self.count += 1
        return self.count  # the 1-based data row number, header excluded

    def close(self) -> None:
        self.fh.close()


class _Noise:
    def __init__(self, rng: np.random.Generator, counts: Counter[str]) -> None:
        self.rng = rng
        self.counts = counts

    def hit(self, kind: str) -> bool:
        if self.rng.random() < NOISE[kind]:
            self.counts[kind] += 1
            return True
        return False

    def id_number(self, number: str, birth: dt.date | None) -> str:
        if not number:
            return ""
        if self.hit("id_missing"):
            return ""
        if birth is not None and birth.year < 1984 and self.hit("id_legacy15"):
            return number[:6] + number[8:17]
        if self.hit("id_one_digit"):
            pos = int(self.rng.integers(6, 17))
            number = number[:pos] + str((int(number[pos]) + int(self.rng.integers(1, 10))) % 10) + number[pos + 1 :]
        elif self.rng.random() < NOISE["id_transposed"]:
            spots = [i for i in range(6, 16) if number[i] != number[i + 1]]
            if spots:
                self.counts["id_transposed"] += 1
                i = spots[int(self.rng.integers(0, len(spots)))]
                number = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        if number.endswith("X") and self.hit("id_lower_x"):
            number = number[:-1] + "x"
        if self.hit("id_fullwidth"):
            number = number.translate(FULLWIDTH)
        return number

    def name(self, name: str) -> str:
        if len(name) >= 2 and self.hit("name_homophone"):
            spots = [i for i, ch in enumerate(name) if ch in HOMOPHONES]
            if spots:
                i = spots[int(self.rng.integers(0, len(spots)))]
                return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
        if self.hit("name_dialect"):
            spots = [i for i, ch in enumerate(name) if ch in DIALECT]
            if spots:
                i = spots[0]
                return name[:i] + DIALECT[name[i]] + name[i + 1 :]
        return name

    def date(self, day: dt.date | None) -> str:
        if day is None:
            return ""
        if day.day <= 12 and day.day != day.month and self.hit("date_swapped"):
            day = day.replace(month=day.day, day=day.month)
        fmt = FORMATS[int(self.rng.integers(0, len(FORMATS)))]
        text = day.strftime(fmt) if "{" not in fmt else fmt.format(y=day.year, m=day.month, d=day.day)
        if self.hit("date_fullwidth"):
            text = text.translate(FULLWIDTH)
        return text

    def address(self, address: str) -> str:
        if address and self.hit("address_abbreviated"):
            return address.replace("重庆市", "").replace("街道", "街").replace("村民委员会", "村")
        return address


def _id_for(county: str, birth: dt.date, serial: int, male: bool) -> str:
    body = f"{county[:6]}{birth:%Y%m%d}{serial % 1000:03d}"
    if (int(body[-1]) % 2 == 1) != male:
        body = body[:-1] + str((int(body[-1]) + 1) % 10)
    return body + idnumber.check_digit(body)


def _load_registry() -> dict[str, Any]:
    from guanai.registry.models import BenefitEnrolment, Child, ChildGroup, ChildRelation, PersonStatus

    ring = privacy.keyring()
    children: list[dict[str, Any]] = [
        dict(c)
        for c in Child.objects.exclude(status=Child.Status.EXITED).values(
            "pk",
            "child_no",
            "name",
            "sex",
            "birth_date",
            "id_number_enc",
            "village_id",
            "household_id",
            "disability_type",
            "disability_grade",
            "hukou_address",
        )
    ]
    for c in children:
        c["id"] = ring.decrypt(c["id_number_enc"]) if c["id_number_enc"] else ""
    groups: dict[int, set[str]] = {}
    for child_id, code in ChildGroup.objects.values_list("child_id", "code"):
        groups.setdefault(child_id, set()).add(code)
    parents: dict[int, dict[str, Any]] = {}
    person_ids = set()
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in ChildRelation.objects.filter(relation__in=["father", "mother"]).values(
            "child_id", "relation", "person_id", "person__name", "person__birth_date", "person__id_number_enc"
        )
    ]
    for rel in rows:
        parents.setdefault(rel["child_id"], {})[rel["relation"]] = rel
        person_ids.add(rel["person_id"])
    plain: dict[int, str] = {}
    for rels in parents.values():
        for person in rels.values():
            if person["person_id"] not in plain:
                token = person["person__id_number_enc"]
                plain[person["person_id"]] = ring.decrypt(token) if token else ""
    away: dict[int, Any] = {}
    for s in PersonStatus.objects.filter(kind="working_away", until__isnull=True).values(
        "person_id", "since", "work_place", "cross_county"
    ):
        away[s["person_id"]] = s
    benefits = list(BenefitEnrolment.objects.values("child_id", "household_id", "kind", "start", "end"))
    return {
        "children": children,
        "groups": groups,
        "parents": parents,
        "plain": plain,
        "away": away,
        "benefits": benefits,
    }


BENEFIT_LABEL = {
    "urban_dibao": "城市低保",
    "rural_dibao": "农村低保",
    "tekun": "特困供养",
    "orphan_allowance": "孤儿基本生活费",
    "unsupported_allowance": "事实无人抚养基本生活补贴",
    "temporary": "临时救助",
}


def rosters_write(folder: Path, *, on: dt.date, seed: int = 2024, extra: float | None = None) -> Result:
    """Write the five rosters and the ground truth for the registry as it is in the database."""
    folder = Path(folder)
    truth_dir = folder / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    result = Result()
    noise = _Noise(rng, result.noise)
    reg = _load_registry()
    writers = {s: _Writer(folder, s) for s in TEMPLATES}
    truth_links = (truth_dir / "links.csv").open("w", encoding="utf-8", newline="")
    links = csv.writer(truth_links)
    links.writerow(["来源", "来源行号", "儿童编号", "目标来源", "目标行号"])
    findings: list[tuple[str, str]] = []
    used_ids = {c["id"] for c in reg["children"] if c["id"]} | {v for v in reg["plain"].values() if v}
    serial = iter(range(10**9))

    def new_id(county: str, birth: dt.date, male: bool) -> str:
        while True:
            number = _id_for(county, birth, 500 + next(serial) % 500, male)
            if number not in used_ids:
                used_ids.add(number)
                return number

    def household_row(
        name: str,
        sex: str,
        birth: dt.date | None,
        number: str,
        hh: str,
        rel: str,
        village: str,
        address: str,
        status: str = "正常",
        status_date: dt.date | None = None,
    ) -> int:
        return writers["household"].add(
            {
                "姓名": noise.name(name),
                "性别": "男" if sex == "M" else "女",
                "出生日期": noise.date(birth),
                "身份证号": noise.id_number(number, birth),
                "户号": hh,
                "与户主关系": rel,
                "户籍地址": noise.address(address),
                "户籍区划代码": village,
                "人员状态": status,
                "状态日期": status_date.isoformat() if status_date else "",
            }
        )

    def migrant_row(name: str, number: str, birth: dt.date | None, place: str, since: dt.date, cross: bool) -> int:
        return writers["migrant"].add(
            {
                "姓名": noise.name(name),
                "身份证号": noise.id_number(number, birth),
                "外出地点": place,
                "外出日期": noise.date(since),
                "是否跨县": "是" if cross else "否",
            }
        )

    def education_row(name: str, sex: str, birth: dt.date, number: str, village: str, status: str) -> int:
        age = age_on(birth, on)
        return writers["education"].add(
            {
                "姓名": noise.name(name),
                "性别": "男" if sex == "M" else "女",
                "出生日期": noise.date(birth),
                "身份证号": noise.id_number(number, birth),
                "学校名称": f"{village[6:9]}号学校",
                "学校区划代码": village,
                "年级": f"{max(age - 5, 1)}年级",
                "学籍状态": status,
                "状态日期": (on - dt.timedelta(days=60)).isoformat(),
            }
        )

    # --- registry children and their families ---------------------------------------------------------------
    by_household: dict[int, list[dict[str, Any]]] = {}
    for c in reg["children"]:
        by_household.setdefault(c["household_id"] or -c["pk"], []).append(c)
    for hh_key, kids in by_household.items():
        first = kids[0]
        village, address = first["village_id"], first["hukou_address"] or ""
        hh = f"R{abs(hh_key)}"
        rels = reg["parents"].get(first["pk"], {})
        plant_defacto = (
            rng.random() < PLANT["registry_defacto"] * len(kids)
            and "father" in rels
            and "mother" in rels
            and not any(reg["groups"].get(k["pk"], set()) & {"unsupported", "orphan"} for k in kids)
        )
        parent_rows: dict[str, int] = {}
        for relation, label in (("father", "户主"), ("mother", "妻" if "father" in rels else "户主")):
            rel = rels.get(relation)
            if rel is None:
                continue
            status, status_date = "正常", None
            if plant_defacto:
                status = "服刑在押" if relation == "father" else "死亡"
                status_date = on - dt.timedelta(days=int(rng.integers(20, 300)))
            birth = rel["person__birth_date"]
            number = reg["plain"].get(rel["person_id"], "")
            parent_rows[relation] = household_row(
                rel["person__name"],
                "M" if relation == "father" else "F",
                birth,
                number,
                hh,
                label,
                village,
                address,
                status,
                status_date,
            )
            trip = reg["away"].get(rel["person_id"])
            if trip and trip["since"]:
                m = migrant_row(
                    rel["person__name"],
                    number,
                    birth,
                    trip["work_place"] or "外省",
                    trip["since"],
                    bool(trip["cross_county"]),
                )
                links.writerow(["migrant", m, "", "household", parent_rows[relation]])
                result.truth_links += 1
        for c in kids:
            age = age_on(c["birth_date"], on)
            status, status_date = "正常", None
            if rng.random() < PLANT["registry_exit"]:
                status = "死亡" if rng.random() < 0.3 else "迁出"
                status_date = on - dt.timedelta(days=int(rng.integers(10, 200)))
                findings.append(("REGISTRY_EXIT_REVIEW", c["child_no"]))
            row = household_row(
                c["name"],
                c["sex"],
                c["birth_date"],
                c["id"],
                hh,
                "子" if c["sex"] == "M" else "女",
                village,
                address,
                status,
                status_date,
            )
            links.writerow(["household", row, c["child_no"], "", ""])
            result.truth_links += 1
            if plant_defacto and age < 18 and status == "正常":
                findings.append(("DEFACTO_UNSUPPORTED_CANDIDATE", c["child_no"]))
            if 6 <= age <= 15:
                u = rng.random()
                if u < PLANT["dropout"]:
                    row = education_row(c["name"], c["sex"], c["birth_date"], c["id"], village, "辍学")
                    links.writerow(["education", row, c["child_no"], "", ""])
                    result.truth_links += 1
                    findings.append(("DROPOUT", c["child_no"]))
                elif u < PLANT["dropout"] + PLANT["absent"]:
                    findings.append(("DROPOUT", c["child_no"]))
                else:
                    row = education_row(c["name"], c["sex"], c["birth_date"], c["id"], village, "在读")
                    links.writerow(["education", row, c["child_no"], "", ""])
                    result.truth_links += 1
            elif 16 <= age <= 17:
                row = education_row(c["name"], c["sex"], c["birth_date"], c["id"], village, "在读")
                links.writerow(["education", row, c["child_no"], "", ""])
                result.truth_links += 1
            if c["disability_type"]:
                row = writers["disability"].add(
                    {
                        "姓名": noise.name(c["name"]),
                        "身份证号": noise.id_number(c["id"], c["birth_date"]),
                        "残疾类别": c["disability_type"],
                        "残疾等级": f"{c['disability_grade'] or 3}级",
                        "发证日期": noise.date(on - dt.timedelta(days=400)),
                    }
                )
                links.writerow(["disability", row, c["child_no"], "", ""])
                result.truth_links += 1
    by_pk = {c["pk"]: c for c in reg["children"]}
    for b in reg["benefits"]:
        if b["child_id"]:
            child = by_pk.get(b["child_id"])
            if child is None:
                continue
            row = writers["assistance"].add(
                {
                    "姓名": noise.name(child["name"]),
                    "身份证号": noise.id_number(child["id"], child["birth_date"]),
                    "救助类型": BENEFIT_LABEL[b["kind"]],
                    "起始日期": noise.date(b["start"]),
                    "终止日期": noise.date(b["end"]),
                    "区划代码": child["village_id"],
                }
            )
            links.writerow(["assistance", row, child["child_no"], "", ""])
            result.truth_links += 1

    # --- unregistered families ----------------------------------------------------------------------------------
    villages = sorted({c["village_id"] for c in reg["children"]})
    n_extra = int(len(reg["children"]) * (PLANT["extra_families"] if extra is None else extra))
    for n in range(n_extra):
        village = villages[int(rng.integers(0, len(villages)))]
        hh = f"X{n + 1}"
        surname = SURNAMES[int(rng.integers(0, len(SURNAMES)))]

        def given(k: int = 2) -> str:
            return "".join(GIVEN[int(rng.integers(0, len(GIVEN)))] for _ in range(k))

        kid_birth = on - dt.timedelta(days=int(rng.integers(200, 17 * 365)))
        kid_male = bool(rng.random() < 0.52)
        kid_name = surname + given(int(rng.integers(1, 3)))
        father_birth = kid_birth - dt.timedelta(days=int(rng.integers(22 * 365, 40 * 365)))
        mother_birth = kid_birth - dt.timedelta(days=int(rng.integers(20 * 365, 38 * 365)))
        f_name, m_name = surname + given(), SURNAMES[int(rng.integers(0, len(SURNAMES)))] + given()
        f_id, m_id = new_id(village, father_birth, True), new_id(village, mother_birth, False)
        kid_id = new_id(village, kid_birth, kid_male)
        u = rng.random()
        cut = np.cumsum(
            [PLANT[k] for k in ("left_behind", "one_away", "recent", "within_county", "away_and_imprisoned", "defacto")]
        )
        kind = ["left_behind", "one_away", "recent", "within_county", "away_and_imprisoned", "defacto", "none"][
            int(np.searchsorted(cut, u, side="right"))
        ]
        f_status, m_status, m_date = "正常", "正常", None
        f_date = None
        if kind == "away_and_imprisoned":
            m_status, m_date = "服刑在押", on - dt.timedelta(days=int(rng.integers(30, 700)))
        if kind == "defacto":
            f_status, f_date = "服刑在押", on - dt.timedelta(days=int(rng.integers(30, 700)))
            m_status, m_date = "死亡", on - dt.timedelta(days=int(rng.integers(30, 1500)))
        f_row = household_row(f_name, "M", father_birth, f_id, hh, "户主", village, "", f_status, f_date)
        m_row = household_row(m_name, "F", mother_birth, m_id, hh, "妻", village, "", m_status, m_date)
        k_row = household_row(
            kid_name, "M" if kid_male else "F", kid_birth, kid_id, hh, "子" if kid_male else "女", village, ""
        )
        age = age_on(kid_birth, on)

        def away(name: str, number: str, birth: dt.date, months: int, cross: bool, target: int) -> None:
            since = add_months(on, -months) - dt.timedelta(days=int(rng.integers(0, 20)))
            m = migrant_row(name, number, birth, "广东省东莞市" if cross else "本县城区", since, cross)
            links.writerow(["migrant", m, "", "household", target])
            result.truth_links += 1

        if kind == "left_behind":
            away(f_name, f_id, father_birth, int(rng.integers(7, 40)), True, f_row)
            away(m_name, m_id, mother_birth, int(rng.integers(7, 40)), True, m_row)
            if age < 16:
                findings.append(("UNREGISTERED_LEFT_BEHIND", f"household:{k_row}"))
        elif kind == "one_away":
            away(f_name, f_id, father_birth, int(rng.integers(7, 40)), True, f_row)
        elif kind == "recent":
            away(f_name, f_id, father_birth, int(rng.integers(7, 40)), True, f_row)
            away(m_name, m_id, mother_birth, 2, True, m_row)
        elif kind == "within_county":
            away(f_name, f_id, father_birth, int(rng.integers(7, 40)), False, f_row)
            away(m_name, m_id, mother_birth, int(rng.integers(7, 40)), False, m_row)
        elif kind == "away_and_imprisoned":
            away(f_name, f_id, father_birth, int(rng.integers(7, 40)), True, f_row)
            if age < 16:
                findings.append(("UNREGISTERED_LEFT_BEHIND", f"household:{k_row}"))
        elif kind == "defacto":
            findings.append(("DEFACTO_UNSUPPORTED_CANDIDATE", f"household:{k_row}"))
        if 6 <= age <= 17:
            education_row(kid_name, "M" if kid_male else "F", kid_birth, kid_id, village, "在读")
        if rng.random() < PLANT["extra_disability"]:
            d = writers["disability"].add(
                {
                    "姓名": noise.name(kid_name),
                    "身份证号": noise.id_number(kid_id, kid_birth),
                    "残疾类别": ["视力", "听力", "肢体", "智力"][int(rng.integers(0, 4))],
                    "残疾等级": "三级",
                    "发证日期": noise.date(on - dt.timedelta(days=int(rng.integers(30, 900)))),
                }
            )
            findings.append(("DISABILITY_UNREGISTERED", f"disability:{d}"))
    for w in writers.values():
        w.close()
    truth_links.close()
    with (truth_dir / "findings.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["规则", "对象"])
        out.writerows(sorted(set(findings)))
    result.rows = {s: w.count for s, w in writers.items()}
    result.truth_findings = dict(Counter(r for r, _ in set(findings)))
    (truth_dir / "noise.json").write_text(
        json.dumps(
            {
                "rates": NOISE,
                "plant": PLANT,
                "applied": dict(result.noise),
                "rows": result.rows,
                "on": on.isoformat(),
                "seed": seed,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return result
