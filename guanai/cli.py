"""The ``guanai`` console script: Django's management commands plus the product's own.

``guanai migrate``, ``guanai createsuperuser`` … work as with manage.py; ``guanai demo``, ``guanai seed``,
``guanai regions import FILE``, ``guanai pii rotate-keys``, ``guanai kpi refresh``,
``guanai report annual --year YYYY --region CODE --out FILE`` and ``guanai national export …`` are the product's.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanai.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["guanai", *(sys.argv[1:] if argv is None else argv)])
    except ImproperlyConfigured as exc:
        print(f"guanai: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
