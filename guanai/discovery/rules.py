"""Evaluating the discovery rules (``rules/discovery.yaml``) set-wise in DuckDB over the linked rosters.

Each rule id maps to one SQL query here; parameters (ages, months, status lists) and the Chinese explanation come
from the YAML. A query returns one line per subject with the roster rows that are its evidence; ``findings``
turns them into explained findings. Household structure: a minor's parents are the 户主 and 配偶 when the minor
is the head's 子女, and the head's 子女 and 子女配偶 when the minor is a 孙子女 (only when that gives at most
two people); see docs/discovery.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from guanai import rules as rulefiles
from guanai.lib import rosters
from guanai.lib.dates import add_months, age_on

POLICE_STATUS = {
    "deceased": "死亡",
    "missing": "失踪",
    "imprisoned": "服刑在押",
    "compulsory_rehab": "强制隔离戒毒",
    "moved_out": "迁出",
}
RELATION_LABEL = {"head": "户主", "spouse": "配偶", "child": "子女", "child_in_law": "子女配偶"}


def ruleset() -> dict[str, Any]:
    return rulefiles.load("discovery")


def rule(rule_id: str) -> dict[str, Any]:
    for r in ruleset()["rules"]:
        if r["id"] == rule_id:
            return dict(r)
    raise KeyError(rule_id)


@dataclass
class Hit:
    rule: str
    subject: str  # child:<id>, id:<blind index> or row:<roster row id>
    child_id: int | None
    row_id: int | None
    bidx: str
    name: str
    region_code: str
    explanation: str
    evidence: list[dict[str, Any]]

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.rule}|{self.subject}".encode()).hexdigest()


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _age(col: str, on: dt.date) -> str:
    return (
        f"(year(DATE '{on}') - year({col}) - CASE WHEN month(DATE '{on}') * 100 + day(DATE '{on}')"
        f" < month({col}) * 100 + day({col}) THEN 1 ELSE 0 END)"
    )


def prepare(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, links: pl.DataFrame, children: pl.DataFrame) -> None:
    for name, frame in (("rows", rows), ("links", links), ("children", children)):
        con.register(name + "_v", frame.to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_v")
        con.unregister(name + "_v")
    con.execute(
        "CREATE OR REPLACE TABLE clinks AS SELECT row_id, target_id AS child_id, state FROM links WHERE kind = 'child'"
    )
    con.execute(
        "CREATE OR REPLACE TABLE rlinks AS SELECT row_id, target_id FROM links"
        " WHERE kind = 'rows' AND state = 'accepted'"
    )


def _parents(con: duckdb.DuckDBPyConnection, on: dt.date) -> None:
    """Household minors, their parents and each parent's facts (away, police status, severe disability)."""
    cfg = ruleset()
    severe = cfg["severe_disability"]
    lb = rule("UNREGISTERED_LEFT_BEHIND")
    away_by = add_months(on, -int(lb["away_months"]))
    con.execute(
        f"""
        CREATE OR REPLACE TABLE minors AS
        SELECT * FROM rows WHERE source = 'household' AND household_no IS NOT NULL
          AND relation IN ('child', 'grandchild') AND birth_date IS NOT NULL AND birth_date <= DATE '{on}'
          AND {_age("birth_date", on)} < 18 AND coalesce(status, 'normal') = 'normal';
        CREATE OR REPLACE TABLE parent_rows AS
        SELECT m.unique_id AS minor_id, p.unique_id AS parent_id, p.name, p.relation, p.status, p.status_date,
               p.row_no, p.birth_date
        FROM minors m JOIN rows p
          ON p.source = 'household' AND p.household_no = m.household_no AND p.unique_id <> m.unique_id
         AND ((m.relation = 'child' AND p.relation IN ('head', 'spouse'))
           OR (m.relation = 'grandchild' AND p.relation IN ('child', 'child_in_law')))
         AND (p.birth_date IS NULL OR p.birth_date <= m.birth_date - INTERVAL 15 YEAR);
        CREATE OR REPLACE TABLE away AS
        SELECT l.target_id AS parent_id, min(r.start_date) AS since, arg_min(r.org_name, r.start_date) AS place,
               arg_min(r.row_no, r.start_date) AS row_no
        FROM rlinks l JOIN rows r ON r.unique_id = l.row_id
        WHERE r.source = 'migrant' AND r.cross_county = {str(bool(lb["cross_county"])).lower()}
          AND r.start_date <= DATE '{away_by}'
        GROUP BY 1;
        CREATE OR REPLACE TABLE severe AS
        SELECT l.target_id AS parent_id, arg_max(r.category, r.grade) AS category, max(r.grade) AS grade,
               arg_max(r.row_no, r.grade) AS row_no
        FROM rlinks l JOIN rows r ON r.unique_id = l.row_id
        WHERE r.source = 'disability' AND (r.grade IN ({_sql_list(severe["any_kind_grades"])})
           OR (r.category IN ({_sql_list(severe["mental_kinds"])})
               AND r.grade IN ({_sql_list(severe["mental_grades"])})))
        GROUP BY 1;
        CREATE OR REPLACE TABLE parent_facts AS
        SELECT pr.*, a.since AS away_since, a.place AS away_place, a.row_no AS away_row,
               s.category AS dis_category, s.grade AS dis_grade, s.row_no AS dis_row,
               a.parent_id IS NOT NULL AS is_away,
               s.parent_id IS NOT NULL AS is_severe,
               coalesce(pr.status IN ('deceased', 'missing', 'imprisoned', 'compulsory_rehab'), false) AS police
        FROM parent_rows pr
        LEFT JOIN away a ON a.parent_id = pr.parent_id
        LEFT JOIN severe s ON s.parent_id = pr.parent_id;
        -- Minors with one or two identified parents (a grandchild household with more is ambiguous: skipped).
        CREATE OR REPLACE TABLE families AS
        SELECT minor_id, count(*) AS n_parents FROM parent_facts GROUP BY 1 HAVING count(*) <= 2;
        """
    )


def _hits_left_behind(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[dict[str, Any]]:
    r = rule("UNREGISTERED_LEFT_BEHIND")
    return _fetch(
        con,
        f"""
        SELECT m.unique_id AS row_id, m.bidx, m.name, m.birth_date, m.region_code, m.row_no, m.source
        FROM minors m JOIN families f ON f.minor_id = m.unique_id AND f.n_parents = 2
        JOIN (SELECT minor_id,
                     count(*) FILTER (WHERE is_away) AS n_away,
                     count(*) FILTER (WHERE NOT is_away AND (police OR is_severe)) AS n_unable
              FROM parent_facts GROUP BY 1) pf ON pf.minor_id = m.unique_id
        WHERE {_age("m.birth_date", on)} <= {int(r["max_age"])}
          AND (pf.n_away = 2 OR (pf.n_away = 1 AND pf.n_unable = 1))
          AND NOT EXISTS (SELECT 1 FROM clinks c WHERE c.row_id = m.unique_id)
        """,
    )


def _hits_defacto(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[dict[str, Any]]:
    r = rule("DEFACTO_UNSUPPORTED_CANDIDATE")
    dm = f"coalesce(status IN ({_sql_list(r['dead_or_missing'])}), false)"
    q = f"coalesce(status IN ({_sql_list([s for s in r['qualifying'] if s != 'severe_disability'])}), false)"
    if "severe_disability" in r["qualifying"]:
        q = f"({q} OR is_severe)"
    return _fetch(
        con,
        f"""
        WITH pf AS (
          SELECT minor_id,
                 count(*) FILTER (WHERE {dm}) AS n_dm,
                 count(*) FILTER (WHERE {q}) AS n_q,
                 count(*) FILTER (WHERE {dm} OR {q}) AS n_any,
                 count(*) FILTER (WHERE police) AS n_police
          FROM parent_facts GROUP BY 1)
        SELECT m.unique_id AS row_id, m.bidx, m.name, m.birth_date, m.region_code, m.row_no, m.source,
               c.child_id, ch.name AS child_name, ch.region_code AS child_region, ch.groups
        FROM minors m JOIN families f ON f.minor_id = m.unique_id AND f.n_parents = 2
        JOIN pf ON pf.minor_id = m.unique_id
        LEFT JOIN clinks c ON c.row_id = m.unique_id AND c.state = 'accepted'
        LEFT JOIN children ch ON ch.unique_id = c.child_id
        WHERE {_age("m.birth_date", on)} <= {int(r["max_age"])}
          AND pf.n_any = 2 AND pf.n_q >= 1 AND pf.n_police >= 1
          AND coalesce(ch.status, '') <> 'exited'
          AND NOT coalesce(list_contains(string_split(ch.groups, ','), 'unsupported'), false)
          AND NOT coalesce(list_contains(string_split(ch.groups, ','), 'orphan'), false)
          AND NOT EXISTS (SELECT 1 FROM clinks p WHERE p.row_id = m.unique_id AND p.state = 'pending')
        """,
    )


def _hits_dropout(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[dict[str, Any]]:
    r = rule("DROPOUT")
    return _fetch(
        con,
        f"""
        WITH ranked AS (
          SELECT c.child_id, c.state, r.status, r.status_date, r.row_no, r.org_name,
                 row_number() OVER (PARTITION BY c.child_id
                                    ORDER BY r.status_date DESC NULLS LAST, r.batch_id DESC) AS n
          FROM clinks c JOIN rows r ON r.unique_id = c.row_id AND r.source = 'education'),
        edu AS (
          SELECT child_id, any_value(status) FILTER (WHERE n = 1) AS status,
                 any_value(status_date) FILTER (WHERE n = 1) AS status_date,
                 any_value(row_no) FILTER (WHERE n = 1) AS row_no,
                 any_value(org_name) FILTER (WHERE n = 1) AS school,
                 bool_or(state = 'pending') AS uncertain
          FROM ranked GROUP BY 1),
        covered AS (
          SELECT DISTINCT left(region_code, 6) AS county FROM rows
          WHERE source = 'education' AND region_code IS NOT NULL)
        SELECT ch.unique_id AS child_id, ch.name, ch.birth_date, ch.region_code,
               e.status, e.status_date, e.row_no, e.school, e.uncertain
        FROM children ch LEFT JOIN edu e ON e.child_id = ch.unique_id
        WHERE ch.status <> 'exited' AND ch.birth_date IS NOT NULL
          AND {_age("ch.birth_date", on)} BETWEEN {int(r["min_age"])} AND {int(r["max_age"])}
          AND ((e.child_id IS NOT NULL AND e.status = 'dropout' AND NOT e.uncertain)
            OR (e.child_id IS NULL AND left(ch.region_code, 6) IN (SELECT county FROM covered)))
        """,
    )


def _hits_disability(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[dict[str, Any]]:
    r = rule("DISABILITY_UNREGISTERED")
    return _fetch(
        con,
        f"""
        WITH home AS (
          SELECT l.row_id, any_value(h.region_code) AS region_code
          FROM rlinks l JOIN rows h ON h.unique_id = l.target_id GROUP BY 1)
        SELECT d.unique_id AS row_id, d.bidx, d.name, d.birth_date, d.row_no, d.source, d.category, d.grade,
               d.start_date, coalesce(home.region_code, rpad(left(d.id_mask, 6), 12, '0')) AS region_code
        FROM rows d LEFT JOIN home ON home.row_id = d.unique_id
        WHERE d.source = 'disability' AND d.birth_date IS NOT NULL AND d.birth_date <= DATE '{on}'
          AND {_age("d.birth_date", on)} <= {int(r["max_age"])}
          AND NOT EXISTS (SELECT 1 FROM clinks c WHERE c.row_id = d.unique_id)
        """,
    )


def _hits_exit(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[dict[str, Any]]:
    r = rule("REGISTRY_EXIT_REVIEW")
    return _fetch(
        con,
        f"""
        SELECT ch.unique_id AS child_id, ch.name, ch.region_code, h.status, h.status_date, h.row_no,
               h.unique_id AS row_id
        FROM clinks c JOIN rows h ON h.unique_id = c.row_id AND h.source = 'household'
        JOIN children ch ON ch.unique_id = c.child_id
        WHERE c.state = 'accepted' AND ch.status <> 'exited' AND h.status IN ({_sql_list(r["statuses"])})
        """,
    )


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _parents_of(con: duckdb.DuckDBPyConnection, minor_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not minor_ids:
        return {}
    con.register("wanted_v", pl.DataFrame({"minor_id": minor_ids}).to_arrow())
    rows = _fetch(con, "SELECT p.* FROM parent_facts p JOIN wanted_v w USING (minor_id) ORDER BY p.relation")
    con.unregister("wanted_v")
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["minor_id"], []).append(row)
    return out


def _parent_text(p: dict[str, Any]) -> str:
    who = f"{RELATION_LABEL.get(p['relation'], '')}{p['name']}"
    bits = []
    if p["is_away"]:
        bits.append(f"外出务工（{p['away_place'] or '地点不详'}，跨县，{p['away_since']}起）")
    if p["police"]:
        bits.append(
            POLICE_STATUS.get(p["status"], p["status"]) + (f"（{p['status_date']}）" if p["status_date"] else "")
        )
    if p["is_severe"]:
        bits.append(f"{p['dis_category']}残疾{p['dis_grade']}级")
    return who + ("：" + "、".join(bits) if bits else "：在家")


def _parent_evidence(p: dict[str, Any]) -> list[dict[str, Any]]:
    ev = [{"来源": "household", "行号": p["row_no"], "内容": _parent_text(p)}]
    if p["is_away"]:
        ev.append({"来源": "migrant", "行号": p["away_row"], "内容": f"{p['name']}外出务工，{p['away_place'] or ''}"})
    if p["is_severe"]:
        ev.append({"来源": "disability", "行号": p["dis_row"], "内容": f"{p['name']}残疾人证"})
    return ev


def _subject(child_id: int | None, bidx: str | None, row_id: int | None) -> str:
    if child_id:
        return f"child:{child_id}"
    if bidx:
        return f"id:{bidx}"
    return f"row:{row_id}"


def evaluate(con: duckdb.DuckDBPyConnection, on: dt.date, *, region: str = "") -> list[Hit]:
    """Every rule's hits on ``on``; ``region`` (a code prefix) keeps only hits in that region."""
    _parents(con, on)
    hits: list[Hit] = []
    texts = {r["id"]: r for r in ruleset()["rules"]}

    lb = _hits_left_behind(con, on)
    df = _hits_defacto(con, on)
    parents = _parents_of(con, [h["row_id"] for h in lb] + [h["row_id"] for h in df])
    for h in lb:
        ps = parents.get(h["row_id"], [])
        text = texts["UNREGISTERED_LEFT_BEHIND"]["explain"].format(
            name=h["name"], age=age_on(h["birth_date"], on), parents="；".join(_parent_text(p) for p in ps)
        )
        ev = [{"来源": "household", "行号": h["row_no"], "内容": f"{h['name']} 户籍在册，未在儿童档案登记"}]
        for p in ps:
            ev += _parent_evidence(p)
        hits.append(
            Hit(
                "UNREGISTERED_LEFT_BEHIND",
                _subject(None, h["bidx"], h["row_id"]),
                None,
                h["row_id"],
                h["bidx"] or "",
                h["name"],
                h["region_code"] or "",
                text,
                ev,
            )
        )
    for h in df:
        ps = parents.get(h["row_id"], [])
        name = h["child_name"] or h["name"]
        text = texts["DEFACTO_UNSUPPORTED_CANDIDATE"]["explain"].format(
            name=name, age=age_on(h["birth_date"], on), parents="；".join(_parent_text(p) for p in ps)
        )
        ev = [{"来源": "household", "行号": h["row_no"], "内容": f"{h['name']} 户籍在册"}]
        for p in ps:
            ev += _parent_evidence(p)
        hits.append(
            Hit(
                "DEFACTO_UNSUPPORTED_CANDIDATE",
                _subject(h["child_id"], h["bidx"], h["row_id"]),
                h["child_id"],
                h["row_id"],
                h["bidx"] or "",
                name,
                h["child_region"] or h["region_code"] or "",
                text,
                ev,
            )
        )
    for h in _hits_dropout(con, on):
        if h["status"] == "dropout":
            reason = f"学籍状态为辍学（{h['school'] or ''}{'，' + str(h['status_date']) if h['status_date'] else ''}）"
            ev = [{"来源": "education", "行号": h["row_no"], "内容": reason}]
        else:
            reason = "不在教育部门学籍名册中（该区县学籍名册已导入）"
            ev = [{"来源": "education", "行号": None, "内容": reason}]
        text = texts["DROPOUT"]["explain"].format(name=h["name"], age=age_on(h["birth_date"], on), reason=reason)
        hits.append(
            Hit("DROPOUT", f"child:{h['child_id']}", h["child_id"], None, "", h["name"], h["region_code"], text, ev)
        )
    for h in _hits_disability(con, on):
        text = texts["DISABILITY_UNREGISTERED"]["explain"].format(
            name=h["name"],
            age=age_on(h["birth_date"], on),
            category=h["category"] or "",
            grade=h["grade"] or "",
            date=h["start_date"] or "",
        )
        ev = [
            {"来源": "disability", "行号": h["row_no"], "内容": f"残疾人证：{h['category'] or ''}{h['grade'] or ''}级"}
        ]
        hits.append(
            Hit(
                "DISABILITY_UNREGISTERED",
                _subject(None, h["bidx"], h["row_id"]),
                None,
                h["row_id"],
                h["bidx"] or "",
                h["name"],
                h["region_code"] or "",
                text,
                ev,
            )
        )
    for h in _hits_exit(con, on):
        status = POLICE_STATUS.get(h["status"], h["status"])
        text = texts["REGISTRY_EXIT_REVIEW"]["explain"].format(
            name=h["name"], status=status, date=h["status_date"] or "日期不详"
        )
        ev = [{"来源": "household", "行号": h["row_no"], "内容": f"人员状态：{status}"}]
        hits.append(
            Hit(
                "REGISTRY_EXIT_REVIEW",
                f"child:{h['child_id']}",
                h["child_id"],
                h["row_id"],
                "",
                h["name"],
                h["region_code"],
                text,
                ev,
            )
        )
    if region:
        hits = [h for h in hits if (h.region_code or "").startswith(region)]
    return hits


def evidence_text(evidence: list[dict[str, Any]]) -> str:
    parts = []
    for e in evidence:
        label = rosters.SOURCES.get(e.get("来源", ""), e.get("来源", "")).split("（")[0]
        where = f"第{e['行号']}行" if e.get("行号") else ""
        parts.append(f"{label}{where}：{e.get('内容', '')}")
    return "；".join(parts)
