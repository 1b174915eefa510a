from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanai.accounts import roles
from guanai.accounts.models import User
from guanai.accounts.services import user_create
from guanai.lib.errors import DomainError


class Command(BaseCommand):
    help = (
        "Accounts. `users add USERNAME --role ROLE --region CODE [--name 姓名] [--organisation 单位]` creates an "
        "account (password prompted, or read from stdin with --password-stdin); `users roles` lists the roles; "
        "`users list [--region CODE]` lists accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create an account with a role and a jurisdiction")
        add.add_argument("username")
        add.add_argument("--role", required=True)
        add.add_argument("--region", required=True, help="region code of the jurisdiction (village … city)")
        add.add_argument("--name", default="")
        add.add_argument("--organisation", default="")
        add.add_argument("--password-stdin", action="store_true")
        sub.add_parser("roles", help="list roles, their levels and permissions")
        lst = sub.add_parser("list", help="list accounts")
        lst.add_argument("--region", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "roles":
            for role in roles.matrix().roles.values():
                self.stdout.write(
                    f"{role.code:24} {role.label:10} levels={sorted(role.levels)} "
                    f"{', '.join(sorted(role.permissions)) or '-'}"
                )
            return
        if action == "list":
            qs = User.objects.select_related("region").order_by("region_id", "username")
            if options["region"]:
                qs = qs.filter(region__code__startswith=options["region"])
            for u in qs:
                region = u.region.name if u.region else "-"
                self.stdout.write(f"{u.username:20} {u.role_label:10} {region}{'' if u.is_active else '（停用）'}")
            return
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("密码 password: ")
            if password != getpass.getpass("再次输入 again: "):
                raise CommandError("两次输入的密码不一致 (passwords differ)")
        try:
            user = user_create(
                actor=None,
                username=options["username"],
                password=password,
                role=options["role"],
                region_code=options["region"],
                display_name=options["name"],
                organisation=options["organisation"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        self.stdout.write(
            f"已创建 created {user.username}: {user.role_label}，{user.region.name if user.region else ''}"
        )
