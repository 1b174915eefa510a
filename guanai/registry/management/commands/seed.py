"""``guanai seed``: fill the database with deterministic synthetic demo data (see ``guanai.registry.seed``)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from guanai.registry import seed
from guanai.registry.seed import Progress, SeedError, SeedOptions


def _progress_bar(total: int, description: str, unit: str) -> Progress:
    # disable=None: a bar on a terminal, silence when the output is redirected (logs, CI).
    return tqdm(total=total, desc=description, unit=unit, unit_scale=total >= 10_000, disable=None, file=sys.stderr)


class Command(BaseCommand):
    help = (
        "Generate synthetic demo data (villages, households, children, parents, statuses, benefits), "
        "deterministic by --seed. 生成演示数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=seed.DEFAULT_SEED, help="random seed (default 2024)")
        parser.add_argument(
            "--children", type=int, default=seed.DEFAULT_CHILDREN, help="number of children (default 3000)"
        )
        parser.add_argument(
            "--districts",
            default=",".join(seed.DEFAULT_DISTRICTS),
            help="comma-separated 6- or 12-digit county codes (default 500230,500101: 丰都县, 万州区)",
        )
        parser.add_argument(
            "--villages-per-township",
            type=int,
            default=seed.DEFAULT_VILLAGES_PER_TOWNSHIP,
            help="demo villages/communities per township (default 4; 0 = enough for ~300 children each)",
        )
        # discovery (issue #6): department rosters for the seeded population, with noise and ground truth apart
        parser.add_argument("--rosters", default="", help="also write the five department rosters into this folder")
        parser.add_argument("--rosters-on", default="", help="the day the rosters describe (default: today)")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete existing demo children, households, people and demo villages first",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        districts = tuple(code.strip() for code in options["districts"].split(",") if code.strip())
        seed_options = SeedOptions(
            seed=options["seed"],
            children=options["children"],
            districts=districts,
            villages_per_township=options["villages_per_township"],
            reset=options["reset"],
        )
        try:
            result = seed.seed_demo(seed_options, progress=_progress_bar)
        except SeedError as exc:
            raise CommandError(f"{exc.english} ({exc.message}); nothing was written (未写入任何数据)") from None
        c = result.counts
        if result.deleted:
            removed = ", ".join(f"{k} {v}" for k, v in result.deleted.items())
            self.stdout.write(f"已删除原演示数据 deleted previous demo data: {removed}")
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已生成 seeded (seed {seed_options.seed}): "
                f"{c['villages']} 村社区 villages ({result.villages_created} new), {c['households']} 户 households, "
                f"{c['children']} 儿童 children, {c['people']} 家庭成员 people, {c['statuses']} 状况 statuses, "
                f"{c['relations']} 关系 relations, {c['benefits']} 救助 benefits"
            )
        )
        if options["rosters"]:
            self._rosters(options)
        self.stdout.write(
            f"用时 time: generate {result.generate_seconds:.2f} s "
            f"({result.children_per_second:,.0f} children/s), write {result.write_seconds:.2f} s"
            + (f", reset {result.reset_seconds:.2f} s" if seed_options.reset else "")
        )

    def _rosters(self, options: dict[str, Any]) -> None:
        import datetime as dt
        from pathlib import Path

        from django.utils import timezone

        from guanai.discovery.roster_seed import rosters_write

        on = dt.date.fromisoformat(options["rosters_on"]) if options["rosters_on"] else timezone.localdate()
        written = rosters_write(Path(options["rosters"]), on=on, seed=options["seed"])
        rows = ", ".join(f"{k} {v}" for k, v in written.rows.items())
        self.stdout.write(f"部门名册已写入 rosters written to {options['rosters']}: {rows}; truth in truth/")
