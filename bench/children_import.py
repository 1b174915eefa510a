"""Benchmark of the roster import: generate a valid CSV of N children, import it into a fresh temporary database,
print rows per second (and the rate of re-importing the same file, which must change nothing).

    .venv/bin/python -m bench.children_import --rows 100000
    .venv/bin/python -m bench.children_import --rows 100000 --database-url postgres://postgres@127.0.0.1:5432/guanai_bench_import

With no ``--database-url`` a temporary SQLite file is used; var/guanai.sqlite3 is never touched. A PostgreSQL
database given by URL must exist and be empty (it is migrated here); drop it afterwards.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗秦谭向冉冯邓曾彭唐蒋"
GIVEN_M = ["浩宇", "子轩", "宇航", "俊杰", "家豪", "明轩", "梓豪", "天佑", "博文", "晨阳", "一鸣", "思远"]
GIVEN_F = ["欣怡", "梓涵", "雨桐", "诗琪", "语嫣", "佳怡", "思彤", "若曦", "可馨", "雅琳", "一诺", "雨欣"]
ADULT_M = ["建华", "国强", "永刚", "红军", "海波", "志勇", "大山", "建军"]
ADULT_F = ["秀兰", "丽", "芳", "小琴", "雪", "玉梅", "静", "敏"]
PLACES = ["广东省东莞市", "浙江省温州市", "福建省厦门市", "上海市", "江苏省昆山市", "重庆市渝北区", "四川省成都市"]
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"]


def _id_number(rng: random.Random, county: str, birth: dt.date, male: bool, used: set[str]) -> str:
    from stdnum.cn import ric

    while True:
        seq = rng.randrange(0, 500)
        body = f"{county}{birth:%Y%m%d}{seq:03d}"
        body = body[:16] + str((int(body[16]) // 2) * 2 + (1 if male else 0))
        number = body + ric.calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def generate(path: Path, rows: int, villages: list[str], seed: int = 20261129) -> None:
    """A realistic roster: most children with ID numbers, both parents named (mostly with IDs), parents mostly
    working away, a grandparent as guardian, about one row in eight a sibling of the previous one."""
    from guanai.registry.importer import HEADERS

    rng = random.Random(seed)
    used: set[str] = set()
    previous: dict[str, str] | None = None
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, HEADERS)
        writer.writeheader()
        for _ in range(rows):
            male = rng.random() < 0.52
            village = rng.choice(villages)
            # Registered children are under 18; most are under 16 (the left-behind age bound).
            birth = dt.date(2010, 12, 1) + dt.timedelta(days=rng.randrange(0, 365 * 14))
            row = dict.fromkeys(HEADERS, "")
            surname = rng.choice(SURNAMES)
            sibling = previous is not None and rng.random() < 0.125
            if sibling and previous is not None:
                surname = previous["父亲姓名"][0] if previous["父亲姓名"] else surname
                village = previous["村社区代码"]
            row.update(
                {
                    "姓名": surname + rng.choice(GIVEN_M if male else GIVEN_F),
                    "性别": "男" if male else "女",
                    "出生日期": birth.strftime(rng.choice(DATE_FORMATS)),
                    "身份证号": _id_number(rng, "500230", birth, male, used) if rng.random() < 0.95 else "",
                    "民族": "汉族" if rng.random() < 0.8 else "土家族",
                    "户籍性质": "农业" if rng.random() < 0.85 else "居民",
                    "户籍地址": f"重庆市丰都县{village[6:9]}乡镇{village[9:]}村{rng.randrange(1, 12)}组",
                    "村社区代码": village,
                    "健康状况": "健康",
                    "就学情况": "在读" if birth.year < 2020 else "学龄前",
                    "学校名称": "丰都县第二中学"
                    if birth.year < 2014
                    else ("丰都县实验小学" if birth.year < 2020 else ""),
                }
            )
            if rng.random() < 0.02:
                row.update({"健康状况": "残疾", "残疾类别": rng.choice(["肢体", "智力", "听力"]), "残疾等级": "2"})
            if sibling and previous is not None:
                for key in [h for h in HEADERS if h.startswith(("父亲", "母亲", "监护人", "委托照料人"))]:
                    row[key] = previous[key]
            else:
                since = (dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 1200))).strftime("%Y-%m-%d")
                place = rng.choice(PLACES)
                cross = "否" if place.startswith("重庆") else "是"
                father_birth = birth - dt.timedelta(days=rng.randrange(365 * 22, 365 * 38))
                mother_birth = birth - dt.timedelta(days=rng.randrange(365 * 20, 365 * 35))
                # A care registry holds mostly children in a group: both parents away, one away and one unable to
                # guard, single-parent families, a few orphans and de-facto unsupported; some no longer qualify.
                kinds = rng.choices(
                    [
                        ("外出务工", "外出务工"),
                        ("外出务工", "无监护能力"),
                        ("死亡", "外出务工"),
                        ("外出务工", "离异"),
                        ("服刑在押", "失联"),
                        ("死亡", "死亡"),
                        ("外出务工", "在家"),
                        ("在家", "在家"),
                    ],
                    weights=[62, 4, 5, 10, 2, 2, 10, 5],
                )[0]
                for label, kind, pbirth, pmale, names in (
                    ("父亲", kinds[0], father_birth, True, ADULT_M),
                    ("母亲", kinds[1], mother_birth, False, ADULT_F),
                ):
                    row[f"{label}姓名"] = (surname if pmale else rng.choice(SURNAMES)) + rng.choice(names)
                    if rng.random() < 0.85:
                        row[f"{label}身份证号"] = _id_number(rng, "500230", pbirth, pmale, used)
                    row[f"{label}状况"] = kind
                    if kind != "在家":
                        row[f"{label}状况起始日期"] = since
                    if kind == "外出务工":
                        row[f"{label}外出地点"] = place
                        row[f"{label}是否跨县"] = cross
                grandma = rng.random() < 0.6
                row["监护人姓名"] = surname + rng.choice(ADULT_F if grandma else ADULT_M)
                row["监护人与儿童关系"] = "奶奶" if grandma else "爷爷"
                if rng.random() < 0.9:
                    row["监护人电话"] = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
                if rng.random() < 0.2:
                    row["委托照料人姓名"] = row["监护人姓名"]
                    row["委托照料人关系"] = row["监护人与儿童关系"]
            writer.writerow(row)
            previous = row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--database-url", default="", help="an existing empty database (default: temporary SQLite)")
    parser.add_argument("--profile", action="store_true", help="print the 25 most expensive functions of the import")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (CSV, database) and print it")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="guanai-bench-import-"))
    os.environ["GUANAI_VAR_DIR"] = str(workdir / "var")
    os.environ["GUANAI_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ["GUANAI_JOBS_MODE"] = "inline"
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from guanai.regions.models import Region
        from guanai.registry.importer import children_import
        from guanai.registry.models import Child, Person, TimelineEvent

        townships = list(
            Region.objects.filter(level=4, code__startswith="500230").order_by("code").values_list("code", flat=True)
        )
        villages: list[str] = []
        for i in range(args.villages):
            township = townships[i % len(townships)]
            villages.append(township[:9] + f"{201 + i // len(townships):03d}")
        Region.objects.bulk_create(
            [Region(code=c, name=f"测试村{c[-3:]}", level=5, parent_id=c[:9] + "000", is_demo=True) for c in villages]
        )
        csv_path = workdir / "children.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows, villages)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        print(f"generated {args.rows} rows ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f} s")
        print(f"database: {connection.vendor} ({'temporary' if not args.database_url else args.database_url})")

        marks: list[tuple[float, str]] = []

        def progress(done: int, total: int, message: str) -> None:
            phase = "校验各行" if message.startswith("校验第") else message
            if marks[-1][1] != phase:
                marks.append((time.perf_counter(), phase))

        today = dt.date(2026, 11, 29)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        marks.append((started, "读取文件"))
        result = children_import(path=csv_path, today=today, progress=progress)
        elapsed = time.perf_counter() - started
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
                int(os.environ.get("BENCH_TOP", "25"))
            )
        if not result.ok:
            print("import failed:", result.summary())
            for e in result.errors[:10]:
                print(" ", e)
            sys.exit(1)
        print(result.summary())
        print(
            f"first import: {elapsed:.2f} s, {args.rows / elapsed:,.0f} rows/s "
            f"({Child.objects.count()} children, {Person.objects.count()} people, "
            f"{TimelineEvent.objects.count()} timeline lines)"
        )
        for (t0, message), (t1, _) in zip(marks, [*marks[1:], (started + elapsed, "")], strict=True):
            print(f"  {message:<20} {t1 - t0:6.2f} s")
        started = time.perf_counter()
        again = children_import(path=csv_path, today=today)
        elapsed = time.perf_counter() - started
        print(f"re-import (no change): {elapsed:.2f} s, {args.rows / elapsed:,.0f} rows/s — {again.summary()}")
    finally:
        if args.keep:
            print("kept:", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
