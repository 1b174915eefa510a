from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from guanai.lib import crypto
from guanai.pii_rotation import pii_reindex, pii_rotate_keys


class Command(BaseCommand):
    help = (
        "Personal-data keys. `pii new-key --id 2` prints a new field key; `pii rotate-keys` re-encrypts every "
        "token with the first key of GUANAI_FIELD_KEYS; `pii reindex` recomputes blind indexes after "
        "GUANAI_BLIND_INDEX_KEY changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        new = sub.add_parser("new-key", help="print a new key spec to prepend to GUANAI_FIELD_KEYS")
        new.add_argument("--id", required=True, help="short alphanumeric key id, e.g. 2 or 2027a")
        rot = sub.add_parser("rotate-keys", help="re-encrypt all encrypted fields with the current key")
        rot.add_argument("--batch-size", type=int, default=2000)
        rei = sub.add_parser("reindex", help="recompute ID-number and phone blind indexes with the current key")
        rei.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "new-key":
            if not options["id"].isalnum():
                raise CommandError("--id must be alphanumeric")
            self.stdout.write(crypto.new_key_spec(options["id"]))
            return
        bar = tqdm(unit="rows", disable=None)
        try:
            if action == "rotate-keys":
                n = pii_rotate_keys(batch_size=options["batch_size"], progress=bar.update)
                self.stdout.write(f"re-encrypted {n} value(s) with the current key")
            else:
                n = pii_reindex(batch_size=options["batch_size"], progress=bar.update)
                self.stdout.write(f"recomputed {n} blind index value(s)")
        except crypto.DecryptionError as exc:
            raise CommandError(f"{exc}; keep every old key in GUANAI_FIELD_KEYS until rotation finishes") from None
        finally:
            bar.close()
