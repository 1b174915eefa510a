"""Linking roster rows to registry children, and a parent's migrant row to the parent's household row.

1. Deterministic: equal blind indexes of valid ID numbers (no plaintext involved).
2. Probabilistic (Splink on an in-memory DuckDB session) for rows whose number is missing or failed its check,
   and for rows with a valid number against registry children who have none. A valid number that matches no
   registry number is not compared digit by digit: GB 11643's check character catches every single-digit error
   and every adjacent transposition, so two valid numbers that differ belong to two people.
3. Review: candidates between ``review_at`` and ``accept_at``, or with a close runner-up, wait for a district
   officer; decisions (LinkDecision) override the model in every later run until revoked.

The ID numbers the near-miss comparison needs (the failed ones, and those of the candidate targets) are
decrypted into the DuckDB session's memory only, for the duration of the run; see docs/discovery.md.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from guanai import privacy, rules
from guanai.discovery import comparisons
from guanai.discovery.frames import query_frame
from guanai.discovery.models import LinkDecision, LinkModel, RosterRow
from guanai.lib import matchkeys, rosters

log = logging.getLogger("guanai.discovery")
Progress = Callable[[int, int, str], None]

# Which sources link to registry children, and which to household rows (roster to roster).
CHILD_SOURCES = ["education", "household", "disability", "assistance"]
TARGET_SOURCES = {"migrant": "household", "disability": "household", "assistance": "household"}
PROBABILISTIC_TO_ROWS = {"migrant"}  # roster-to-roster links that get the probabilistic pass too
TRAIN_SAMPLE = 200_000
# Below this many labelled (equal-ID) pairs the estimates would be noise: keep the priors and train again on a
# later run, when more has been imported.
MIN_LABELS = 200

ROW_COLUMNS: dict[str, pl.DataType] = {
    "unique_id": pl.Int64(),
    "batch_id": pl.Int64(),
    "source": pl.String(),
    "row_no": pl.Int64(),
    "name": pl.String(),
    "name_pinyin": pl.String(),
    "name_dialect": pl.String(),
    "sex": pl.String(),
    "birth_date": pl.Date(),
    "id_state": pl.String(),
    "bidx": pl.String(),
    "id_mask": pl.String(),
    "region_code": pl.String(),
    "household_no": pl.String(),
    "relation": pl.String(),
    "status": pl.String(),
    "status_date": pl.Date(),
    "org_name": pl.String(),
    "grade": pl.String(),
    "cross_county": pl.Boolean(),
    "category": pl.String(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
}
CHILD_COLUMNS: dict[str, pl.DataType] = {
    "unique_id": pl.Int64(),
    "name": pl.String(),
    "sex": pl.String(),
    "birth_date": pl.Date(),
    "bidx": pl.String(),
    "id_mask": pl.String(),
    "region_code": pl.String(),
    "status": pl.String(),
}
MATCH_COLUMNS = [
    "unique_id",
    "name",
    "name_pinyin",
    "name_dialect",
    "birth_date",
    "birth_swapped",
    "sex",
    "region_code",
    "id_mask",
    "id_plain",
]


def linkage_settings() -> dict[str, Any]:
    return dict(rules.load("discovery")["linkage"])


def load_rows() -> pl.DataFrame:
    t = RosterRow._meta.db_table
    sql = (
        "SELECT CAST(id AS TEXT), CAST(batch_id AS TEXT), source, CAST(row_no AS TEXT), name, name_pinyin,"
        " name_dialect, sex, CAST(birth_date AS TEXT), id_state, id_number_bidx, id_number_mask, region_code,"
        " household_no, relation, status, CAST(status_date AS TEXT), org_name, grade, CAST(cross_county AS TEXT),"
        f" category, CAST(start_date AS TEXT), CAST(end_date AS TEXT) FROM {t}"
    )
    return query_frame(sql, ROW_COLUMNS)


def load_children(prefix: str = "") -> pl.DataFrame:
    from guanai.registry.models import Child

    t = Child._meta.db_table
    where = ""
    if prefix:
        where = f" WHERE village_id >= '{prefix.ljust(12, '0')}' AND village_id <= '{prefix.ljust(12, '9')}'"
    sql = (
        "SELECT CAST(id AS TEXT), name, sex, CAST(birth_date AS TEXT), id_number_bidx, id_number_mask, village_id,"
        f" status FROM {t}{where}"
    )
    children = query_frame(sql, CHILD_COLUMNS)
    return rosters.with_name_keys(children)


def _swapped(col: str) -> pl.Expr:
    """Day and month exchanged, when that makes another real date."""
    c = pl.col(col)
    return (
        pl.when((c.dt.day() <= 12) & (c.dt.day() != c.dt.month()))
        .then(
            pl.concat_str(
                [
                    c.dt.year().cast(pl.String),
                    c.dt.day().cast(pl.String).str.zfill(2),
                    c.dt.month().cast(pl.String).str.zfill(2),
                ],
                separator="-",
            ).str.to_date("%Y-%m-%d", strict=False)
        )
        .otherwise(None)
    )


def _match_frame(frame: pl.DataFrame) -> pl.DataFrame:
    out = frame.with_columns(_swapped("birth_date").alias("birth_swapped"))
    if "id_plain" not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("id_plain"))
    return out.select(MATCH_COLUMNS)


def _decrypt(model: Any, ids: list[int]) -> pl.DataFrame:
    """Plaintext ID numbers of ``ids``, in memory only (the run's DuckDB session)."""
    ring = privacy.keyring()
    pairs: list[tuple[int, str]] = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for pk, token in (
            model.objects.filter(pk__in=chunk).exclude(id_number_enc="").values_list("id", "id_number_enc")
        ):
            pairs.append((pk, ring.decrypt(token)))
    return pl.DataFrame(pairs, schema={"unique_id": pl.Int64, "id_plain": pl.String}, orient="row")


@dataclass
class Candidate:
    row_id: int
    target_id: int
    probability: float
    explanation: list[dict[str, Any]]


@dataclass
class LinkageResult:
    links: pl.DataFrame  # row_id, child_id, target_id, method, probability, state, explanation (JSON text)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class Session:
    """A private in-memory DuckDB session; spill files, if any, go to a private temporary folder removed at close."""

    def __init__(self, memory_limit: str = "8GB") -> None:
        self.tmp = tempfile.mkdtemp(prefix="guanai-link-")
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self.tmp}'")
        self.con.execute("SET preserve_insertion_order = false")

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _exact(rows: pl.DataFrame, targets: pl.DataFrame, target_kind: str) -> pl.DataFrame:
    left = rows.filter(pl.col("bidx").is_not_null()).select(pl.col("unique_id").alias("row_id"), "bidx")
    right = targets.filter(pl.col("bidx").is_not_null()).select(pl.col("unique_id").alias("target_id"), "bidx")
    joined = left.join(right, on="bidx", how="inner")
    if target_kind == "rows":
        joined = joined.filter(pl.col("row_id") != pl.col("target_id"))
    return joined.select("row_id", "target_id").unique()


def _labels(con: duckdb.DuckDBPyConnection, exact: pl.DataFrame, sample_ids: pl.Series) -> int:
    labels = exact.filter(pl.col("row_id").is_in(sample_ids.implode())).select(
        pl.lit("a_rows").alias("source_dataset_l"),
        pl.col("row_id").alias("unique_id_l"),
        pl.lit("b_targets").alias("source_dataset_r"),
        pl.col("target_id").alias("unique_id_r"),
        pl.lit(1.0).alias("clerical_match_score"),
    )
    con.register("labels_view", labels.to_arrow())
    con.execute("CREATE OR REPLACE TABLE labels AS SELECT * FROM labels_view")
    con.unregister("labels_view")
    return labels.height


def _table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register(name + "_view", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_view")
    con.unregister(name + "_view")


def match_prior(exact: int, rows: int, targets: int) -> float:
    """λ, the chance that a random (row, target) pair is a match: the share of rows that found their target by
    ID number, spread over the targets. At least 1000 targets are assumed, so that a first small import does not
    make every pair look likely."""
    rate = (exact + 1) / (rows + 1)
    return min(max(rate / max(targets, 1000), 1e-9), 0.5)


def train(
    session: Session, source: str, rows: pl.DataFrame, targets: pl.DataFrame, exact: pl.DataFrame
) -> dict[str, Any]:
    """Estimate u by random sampling and m from the deterministic (equal-ID) pairs: those pairs carry the
    roster's real noise in names, dates and codes. ID-number levels keep their fixed priors."""
    from splink import DuckDBAPI, Linker

    sample = rows.sample(n=min(rows.height, TRAIN_SAMPLE), seed=7) if rows.height > TRAIN_SAMPLE else rows
    con = session.con
    _table(con, "a_rows", _match_frame(sample))
    _table(con, "b_targets", _match_frame(targets))
    n_labels = _labels(con, exact, sample["unique_id"])
    prior = match_prior(exact.height, rows.height, targets.height)
    if n_labels < MIN_LABELS:
        model = comparisons.settings_dict(prior=prior)
        LinkModel.objects.update_or_create(source=source, defaults={"settings_json": model, "labelled_pairs": n_labels})
        log.info("linkage model for %s: %s labelled pairs, too few to train; priors kept", source, n_labels)
        return model
    linker = Linker(
        ["a_rows", "b_targets"],
        comparisons.settings_dict(prior=prior),
        db_api=DuckDBAPI(connection=con),
        input_table_aliases=["a_rows", "b_targets"],
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=7)
    if n_labels:
        linker.training.estimate_m_from_pairwise_labels("labels")
    model = linker.misc.save_model_to_json()
    model["probability_two_random_records_match"] = prior
    model = comparisons.sane(model)
    LinkModel.objects.update_or_create(source=source, defaults={"settings_json": model, "labelled_pairs": n_labels})
    log.info("linkage model trained: source=%s labelled_pairs=%s", source, n_labels)
    return model


def _labels_by_level(model: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for comparison in model["comparisons"]:
        levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        # gamma: null = -1, then the non-null levels counted down from the best.
        out[comparison["output_column_name"]] = [lvl["label_for_charts"] for lvl in levels]
    return out


DESCRIPTIONS = {c["output_column_name"]: c["comparison_description"] for c in comparisons.COMPARISONS}


def predict(
    session: Session, model: dict[str, Any], left: pl.DataFrame, right: pl.DataFrame, threshold: float
) -> pl.DataFrame:
    """Scored candidate pairs (row_id, target_id, probability, explanation JSON)."""
    from splink import DuckDBAPI, Linker

    empty = pl.DataFrame(
        schema={"row_id": pl.Int64, "target_id": pl.Int64, "probability": pl.Float64, "explanation": pl.String}
    )
    if left.is_empty() or right.is_empty():
        return empty
    con = session.con
    _table(con, "a_rows", _match_frame(left))
    _table(con, "b_targets", _match_frame(right))
    linker = Linker(
        ["a_rows", "b_targets"],
        model,
        db_api=DuckDBAPI(connection=con),
        input_table_aliases=["a_rows", "b_targets"],
    )
    result = linker.inference.predict(threshold_match_probability=threshold)
    table = result.physical_name
    names = [c["output_column_name"] for c in model["comparisons"]]
    level_labels = _labels_by_level(model)
    cols = ", ".join(f"gamma_{n}, bf_{n}" for n in names)
    frame = con.sql(f"SELECT source_dataset_l, unique_id_l, unique_id_r, match_probability, {cols} FROM {table}").pl()
    if frame.is_empty():
        return empty
    # Splink orders a pair by dataset name; a_rows sorts before b_targets, so _l is the roster row.
    parts = []
    for n in names:
        labels = level_labels[n]
        # gamma counts the non-null levels down from the best (k-1 … 0); -1 is the null level.
        mapping = {len(labels) - 1 - i: label for i, label in enumerate(labels)} | {-1: "缺失"}
        parts.append(
            pl.concat_str(
                pl.lit('{"field":"' + DESCRIPTIONS.get(n, n) + '","level":"'),
                pl.col(f"gamma_{n}").cast(pl.Int64).replace_strict(mapping, default="", return_dtype=pl.String),
                pl.lit('","bf":'),
                pl.col(f"bf_{n}").cast(pl.Float64).round(4).cast(pl.String).fill_null("null"),
                pl.lit("}"),
            )
        )
    return frame.select(
        pl.col("unique_id_l").cast(pl.Int64).alias("row_id"),
        pl.col("unique_id_r").cast(pl.Int64).alias("target_id"),
        pl.col("match_probability").cast(pl.Float64).alias("probability"),
        (pl.lit("[") + pl.concat_str(parts, separator=",") + pl.lit("]")).alias("explanation"),
    )


def _decisions() -> pl.DataFrame:
    qs = LinkDecision.objects.filter(revoked_at__isnull=True).order_by("decided_at", "id")
    rows = [(d.row_id, d.child_id, d.target_id, d.decision) for d in qs]
    frame = pl.DataFrame(
        rows,
        schema={"row_id": pl.Int64, "child_id": pl.Int64, "target_id": pl.Int64, "decision": pl.String},
        orient="row",
    )
    # The latest decision on a pair wins.
    return frame.unique(subset=["row_id", "child_id", "target_id"], keep="last")


def _resolve(scored: pl.DataFrame, accept_at: float, review_at: float, margin: float) -> pl.DataFrame:
    """Best candidate per roster row; accepted when sure and clearly ahead of the runner-up, else for review."""
    if scored.is_empty():
        return scored.with_columns(pl.lit("").alias("state"))
    ranked = scored.sort(["row_id", "probability"], descending=[False, True]).with_columns(
        pl.col("probability").shift(-1).over("row_id").alias("runner_up"),
        pl.int_range(pl.len()).over("row_id").alias("rank"),
    )
    best = ranked.filter(pl.col("rank") == 0)
    state = (
        pl.when((pl.col("probability") >= accept_at) & (pl.col("runner_up").fill_null(0) < review_at))
        .then(pl.lit("accepted"))
        .when(pl.col("probability") >= review_at)
        .then(pl.lit("pending"))
        .otherwise(pl.lit(""))
    )
    return best.with_columns(state.alias("state")).filter(pl.col("state") != "").drop("runner_up", "rank")


def link_all(
    *, rows: pl.DataFrame, children: pl.DataFrame, retrain: bool = False, progress: Progress | None = None
) -> LinkageResult:
    """All links of all imported rows, with decisions applied. Returns the frame the caller writes."""
    report = progress or (lambda done, total, message: None)
    cfg = linkage_settings()
    accept_at, review_at, margin = float(cfg["accept_at"]), float(cfg["review_at"]), float(cfg["runner_up_margin"])
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    decisions = _decisions()
    households = rows.filter(pl.col("source") == "household")
    child_ids_with_id = children.filter(pl.col("bidx").is_not_null())
    children_no_id = children.filter(pl.col("bidx").is_null())
    session = Session()
    out: list[pl.DataFrame] = []
    jobs: list[tuple[str, str]] = [(s, "child") for s in CHILD_SOURCES] + [(s, "rows") for s in TARGET_SOURCES]
    try:
        child_plain: pl.DataFrame | None = None
        for step, (source, kind) in enumerate(jobs):
            started = time.monotonic()
            report(step, len(jobs), f"比对{rosters.SOURCES[source]}（{'儿童档案' if kind == 'child' else '户籍'}）")
            left_all = rows.filter(pl.col("source") == source)
            if left_all.is_empty():
                continue
            targets = children if kind == "child" else households
            exact = _exact(left_all, targets, kind)
            exact_rows = exact.select("row_id").unique()
            frames = [
                exact.with_columns(
                    pl.lit("exact").alias("method"),
                    pl.lit(1.0).alias("probability"),
                    pl.lit("accepted").alias("state"),
                    pl.lit('[{"field":"身份证号","level":"一致（盲索引）","bf":null}]').alias("explanation"),
                )
            ]
            counts[f"{source}_{kind}_exact"] = exact.height
            probabilistic = kind == "child" or source in PROBABILISTIC_TO_ROWS
            if probabilistic:
                model_key = source if kind == "child" else f"{source}_rows"
                stored = (
                    None
                    if retrain
                    else LinkModel.objects.filter(source=model_key, labelled_pairs__gte=MIN_LABELS).first()
                )
                model = stored.settings_json if stored else train(session, model_key, left_all, targets, exact)
                threshold = review_at * 0.5
                unlinked = left_all.join(exact_rows, left_on="unique_id", right_on="row_id", how="anti")
                weak = unlinked.filter(pl.col("id_state").is_in(["invalid", "missing"]))
                strong = unlinked.filter(pl.col("id_state").is_in(["valid", "legacy15"]))
                # Plaintext for the near-miss comparison: the failed numbers, and the targets' numbers.
                weak = weak.join(
                    _decrypt(RosterRow, weak.filter(pl.col("id_state") == "invalid")["unique_id"].to_list()),
                    on="unique_id",
                    how="left",
                )
                if kind == "child":
                    if child_plain is None:
                        from guanai.registry.models import Child

                        child_plain = _decrypt(Child, child_ids_with_id["unique_id"].to_list())
                    right = children.join(child_plain, on="unique_id", how="left")
                    right_no_id = children_no_id
                else:
                    right = _candidates(session, weak, targets)
                    right = right.join(_decrypt(RosterRow, right["unique_id"].to_list()), on="unique_id", how="left")
                    right_no_id = targets.filter(pl.col("bidx").is_null())
                scored = predict(session, model, weak, right, threshold)
                if not strong.is_empty() and not right_no_id.is_empty():
                    scored = pl.concat([scored, predict(session, model, strong, right_no_id, threshold)])
                scored = _apply_rejections(scored, decisions, kind)
                resolved = _resolve(scored, accept_at, review_at, margin)
                counts[f"{source}_{kind}_probabilistic"] = resolved.filter(pl.col("state") == "accepted").height
                counts[f"{source}_{kind}_pending"] = resolved.filter(pl.col("state") == "pending").height
                frames.append(resolved.with_columns(pl.lit("probabilistic").alias("method")))
            links = pl.concat(
                [f.select("row_id", "target_id", "method", "probability", "state", "explanation") for f in frames]
            )
            links = _apply_acceptances(links, decisions, kind, source, rows)
            out.append(links.with_columns(pl.lit(kind).alias("kind"), pl.lit(source).alias("source")))
            timings[f"link_{source}_{kind}"] = round(time.monotonic() - started, 2)
    finally:
        session.close()
    schema = {
        "row_id": pl.Int64,
        "target_id": pl.Int64,
        "method": pl.String,
        "probability": pl.Float64,
        "state": pl.String,
        "explanation": pl.String,
        "kind": pl.String,
        "source": pl.String,
    }
    links = pl.concat([f.select(list(schema)).cast(schema) for f in out]) if out else pl.DataFrame(schema=schema)  # type: ignore[arg-type]
    return LinkageResult(links=links, timings=timings, counts=counts)


def _candidates(session: Session, left: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Target rows that share a block with some left row (computed without plaintext ID numbers), so that only
    they are decrypted."""
    if left.is_empty():
        return targets.head(0)
    con = session.con
    _table(con, "cand_l", _match_frame(left))
    _table(con, "cand_r", _match_frame(targets))
    conditions = " OR ".join(f"({r})" for r in comparisons.BLOCKING_RULES)
    ids = con.execute(f"SELECT DISTINCT r.unique_id FROM cand_l l JOIN cand_r r ON {conditions}").fetchall()
    wanted = [i[0] for i in ids]
    return targets.filter(pl.col("unique_id").is_in(wanted))


def _apply_rejections(scored: pl.DataFrame, decisions: pl.DataFrame, kind: str) -> pl.DataFrame:
    col = "child_id" if kind == "child" else "target_id"
    rejected = decisions.filter((pl.col("decision") == "reject") & pl.col(col).is_not_null()).select(
        "row_id", pl.col(col).alias("target_id")
    )
    return scored.join(rejected, on=["row_id", "target_id"], how="anti")


def _apply_acceptances(
    links: pl.DataFrame, decisions: pl.DataFrame, kind: str, source: str, rows: pl.DataFrame
) -> pl.DataFrame:
    """An officer's acceptance replaces whatever the model proposed for that row; a rejection removes the pair."""
    col = "child_id" if kind == "child" else "target_id"
    mine = decisions.filter(pl.col(col).is_not_null()).join(
        rows.filter(pl.col("source") == source).select(pl.col("unique_id").alias("row_id")), on="row_id"
    )
    rejected = mine.filter(pl.col("decision") == "reject").select("row_id", pl.col(col).alias("target_id"))
    links = links.join(rejected, on=["row_id", "target_id"], how="anti")
    accepted = mine.filter(pl.col("decision") == "accept").select("row_id", pl.col(col).alias("target_id"))
    if accepted.is_empty():
        return links
    prior = links.select("row_id", "target_id", pl.col("probability").alias("p"), pl.col("explanation").alias("e"))
    reviewed = accepted.join(prior, on=["row_id", "target_id"], how="left").select(
        "row_id",
        "target_id",
        pl.lit("reviewed").alias("method"),
        pl.col("p").fill_null(1.0).alias("probability"),
        pl.lit("accepted").alias("state"),
        pl.col("e").fill_null("[]").alias("explanation"),
    )
    links = links.join(accepted.select("row_id"), on="row_id", how="anti")
    return pl.concat([links, reviewed])


def explain_levels() -> list[tuple[str, list[str]]]:
    """For docs and pages: each comparison and its levels, best first."""
    return [
        (c["comparison_description"], [lvl["label_for_charts"] for lvl in c["comparison_levels"]])
        for c in comparisons.COMPARISONS
    ]


__all__ = ["link_all", "load_children", "load_rows", "matchkeys"]
