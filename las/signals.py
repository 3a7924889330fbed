"""Keep `Vestiging.data_version`/`gewijzigd_op` in step with every change to a vestiging's school data.

`mutatiedatum` on a row covers edits, but a deleted pupil or a changed group membership leaves no row with a
new time behind; UWLR answers `geenwijzigingen` only when *nothing* changed, so those bump the vestiging.
Bulk operations (`bulk_create`, `QuerySet.update`) bypass signals: callers of those call `Vestiging.bump`.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from las import models as m


def _bump_for(instance: Any) -> None:
    if isinstance(instance, m.Vestiging):
        m.Vestiging.bump([instance.pk])
    elif isinstance(instance, m.School):
        m.Vestiging.bump(m.Vestiging.objects.filter(school_id=instance.pk).values_list("pk", flat=True))
    elif isinstance(instance, m.Groep | m.SamengesteldeGroep):
        m.Vestiging.bump([instance.vestiging_id])
    elif isinstance(instance, m.Leerling):
        m.Vestiging.bump([instance.vestiging_id, getattr(instance, "_loaded_vestiging_id", None)])
        instance._loaded_vestiging_id = instance.vestiging_id
    elif isinstance(instance, m.Leerkracht):
        m.Vestiging.bump(m.Vestiging.objects.filter(school_id=instance.school_id).values_list("pk", flat=True))
    elif isinstance(instance, m.LeerkrachtGroep):
        m.Vestiging.bump(m.Groep.objects.filter(pk=instance.groep_id).values_list("vestiging_id", flat=True))
    elif isinstance(instance, m.LeerkrachtSamengesteldeGroep):
        groepen = m.SamengesteldeGroep.objects.filter(pk=instance.samengestelde_groep_id)
        m.Vestiging.bump(groepen.values_list("vestiging_id", flat=True))


TRACKED = (
    m.School, m.Vestiging, m.Groep, m.SamengesteldeGroep, m.Leerling, m.Leerkracht,
    m.LeerkrachtGroep, m.LeerkrachtSamengesteldeGroep,
)


def on_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        _bump_for(instance)


def on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    _bump_for(instance)


def on_leerling_groepen(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if action == "pre_clear":
        # After a clear the ids are gone; remember them now.
        if reverse:
            instance._cleared_leerlingen = list(instance.leerlingen.values_list("pk", flat=True))
        return
    # With reverse=True the instance is a SamengesteldeGroep and pk_set holds pupils.
    leerling_ids = set(pk_set or getattr(instance, "_cleared_leerlingen", [])) if reverse else {instance.pk}
    leerlingen = m.Leerling.objects.filter(pk__in=leerling_ids)
    vestigingen = set(leerlingen.values_list("vestiging_id", flat=True))
    leerlingen.update(mutatiedatum=timezone.now())
    if reverse:
        vestigingen.add(instance.vestiging_id)
    m.Vestiging.bump(vestigingen)


def connect() -> None:
    for model in TRACKED:
        post_save.connect(on_save, sender=model, dispatch_uid=f"las-bump-save-{model.__name__}")
        post_delete.connect(on_delete, sender=model, dispatch_uid=f"las-bump-delete-{model.__name__}")
    m2m_changed.connect(
        on_leerling_groepen, sender=m.Leerling.samengestelde_groepen.through, dispatch_uid="las-bump-m2m"
    )
