"""Key rotation for encrypted fields and blind indexes. Batches commit one by one, so an interrupted run
can be resumed safely: rows already under the current key are skipped."""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.db import transaction

from guanai import privacy
from guanai.audit.services import audit_record


def pii_rotate_keys(*, batch_size: int = 2000, progress: Callable[[int], object] = lambda n: None) -> int:
    ring = privacy.keyring()
    current_prefix = ring.current_id + ":"
    total = 0
    for app_label, model_name, field in privacy.ENCRYPTED_FIELDS:
        model = apps.get_model(app_label, model_name)
        stale = model.objects.exclude(**{field: ""}).exclude(**{f"{field}__startswith": current_prefix})
        while True:
            with transaction.atomic():
                rows = list(stale.select_for_update().order_by("pk").only("pk", field)[:batch_size])
                if not rows:
                    break
                for row in rows:
                    setattr(row, field, ring.encrypt(ring.decrypt(getattr(row, field))))
                model.objects.bulk_update(rows, [field])
                audit_record(
                    actor=None,
                    action="pii.rotate",
                    object_type=model_name.lower(),
                    summary=f"{field}: {len(rows)} value(s) re-encrypted with key {ring.current_id}",
                )
            total += len(rows)
            progress(len(rows))
    return total


# (app, model, encrypted field, blind index field, blind index function)
BLIND_INDEXES: list[tuple[str, str, str, str, Callable[[str], str]]] = [
    ("registry", "Child", "id_number_enc", "id_number_bidx", privacy.id_bidx),
    ("registry", "Person", "id_number_enc", "id_number_bidx", privacy.id_bidx),
]


def pii_reindex(*, batch_size: int = 2000, progress: Callable[[int], object] = lambda n: None) -> int:
    total = 0
    for app_label, model_name, enc_field, bidx_field, fn in BLIND_INDEXES:
        model = apps.get_model(app_label, model_name)
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.filter(pk__gt=last_pk)
                    .exclude(**{enc_field: ""})
                    .select_for_update()
                    .order_by("pk")
                    .only("pk", enc_field, bidx_field)[:batch_size]
                )
                if not rows:
                    break
                for row in rows:
                    setattr(row, bidx_field, fn(privacy.reveal(getattr(row, enc_field))))
                model.objects.bulk_update(rows, [bidx_field])
                audit_record(
                    actor=None,
                    action="pii.reindex",
                    object_type=model_name.lower(),
                    summary=f"{bidx_field}: {len(rows)} value(s) recomputed",
                )
            last_pk = rows[-1].pk
            total += len(rows)
            progress(len(rows))
    return total
