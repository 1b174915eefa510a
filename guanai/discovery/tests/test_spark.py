"""The linkage job runs on Spark (local mode) with the same model and gives the same pairs as DuckDB."""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
import pytest

from guanai.discovery import comparisons
from guanai.discovery.linkage import Session, predict
from guanai.discovery.tests.helpers import one_digit_wrong, person_id
from guanai.lib import matchkeys

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
]


def _side(rows: list[tuple]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema={
            "unique_id": pl.Int64,
            "name": pl.String,
            "birth_date": pl.Date,
            "sex": pl.String,
            "region_code": pl.String,
            "id_mask": pl.String,
            "id_plain": pl.String,
        },
        orient="row",
    )
    return frame.with_columns(
        pl.col("name").map_elements(matchkeys.name_pinyin, return_dtype=pl.String).alias("name_pinyin"),
        pl.col("name").map_elements(matchkeys.dialect_key, return_dtype=pl.String).alias("name_dialect"),
    )


def test_the_same_model_links_the_same_pairs_on_spark_and_duckdb():
    village = "500230101201"
    a = person_id(village, dt.date(2014, 3, 7), 1, True)
    b = person_id(village, dt.date(2013, 6, 21), 2, False)
    right = _side(
        [
            (1, "王小明", dt.date(2014, 3, 7), "M", village, a[:6] + "********" + a[-4:], a),
            (2, "李小红", dt.date(2013, 6, 21), "F", village, b[:6] + "********" + b[-4:], b),
            (3, "张伟", dt.date(2012, 1, 1), "M", village, None, None),
        ]
    )
    wrong = one_digit_wrong(a, 12)
    left = _side(
        [
            (11, "王晓明", dt.date(2014, 3, 7), "M", village, wrong[:6] + "********" + wrong[-4:], wrong),
            (12, "李小红", dt.date(2013, 6, 21), "F", village, None, None),
            (13, "陈冬", dt.date(2011, 2, 2), "M", village, None, None),
        ]
    )
    model = comparisons.settings_dict(prior=1e-3)
    session = Session(memory_limit="1GB")
    try:
        on_duckdb = predict(session, model, left, right, 0.5).select("row_id", "target_id").sort("row_id")
    finally:
        session.close()

    from guanai.discovery.spark import predict_on_spark, spark_session

    spark = spark_session()
    try:
        on_spark = predict_on_spark(spark, model, left, right, 0.5).select("row_id", "target_id").sort("row_id")
    finally:
        spark.stop()
    assert on_duckdb.rows() == [(11, 1), (12, 2)]
    assert on_spark.rows() == on_duckdb.rows()
