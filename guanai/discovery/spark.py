"""The same linkage job on Spark, for national scale (Splink's Spark backend).

A province links on one server with DuckDB (``linkage``). Nationally, the rows of all provinces do not fit one
machine: the same Splink model (per source type, trained on DuckDB and saved in ``LinkModel``) scores candidate
pairs on a Spark cluster. The comparisons' SQL is written to run unchanged on both engines (no DuckDB-only
functions). Point it at a cluster with ``SparkSession.builder.master("spark://host:7077")`` or ``yarn``, or run
it under ``spark-submit``; see docs/discovery.md.
"""

from __future__ import annotations

from typing import Any

import polars as pl


def spark_session(master: str = "local[2]", app: str = "guanai-linkage") -> Any:
    import logging

    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(logging.WARNING)  # py4j logs at exit, after the streams are closed

    return (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )


def predict_on_spark(
    spark: Any, model: dict[str, Any], left: pl.DataFrame, right: pl.DataFrame, threshold: float
) -> pl.DataFrame:
    """Scored pairs (row_id, target_id, probability) of ``left`` roster rows against ``right`` targets."""
    from splink import Linker, SparkAPI

    from guanai.discovery.linkage import _match_frame

    def to_spark(frame: pl.DataFrame) -> Any:
        pdf = _match_frame(frame).with_columns(pl.col("birth_date", "birth_swapped").cast(pl.String)).to_pandas()
        df = spark.createDataFrame(pdf)
        return df.withColumn("birth_date", df.birth_date.cast("date")).withColumn(
            "birth_swapped", df.birth_swapped.cast("date")
        )

    settings = dict(model)
    settings["sql_dialect"] = "spark"
    linker = Linker(
        [to_spark(left), to_spark(right)],
        settings,
        db_api=SparkAPI(spark_session=spark, break_lineage_method="persist", num_partitions_on_repartition=4),
        input_table_aliases=["a_rows", "b_targets"],
    )
    out = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    frame = pl.from_pandas(out[["unique_id_l", "unique_id_r", "match_probability"]])
    return frame.select(
        pl.col("unique_id_l").cast(pl.Int64).alias("row_id"),
        pl.col("unique_id_r").cast(pl.Int64).alias("target_id"),
        pl.col("match_probability").cast(pl.Float64).alias("probability"),
    )
