"""What still refers to a row. A row something refers to (a user who acted, an area with people
in it, a unit with responsibilities) is ended, revoked or deactivated, never deleted: the
services that delete ask here first."""

from django.db import models
from django.db.models import ForeignObjectRel


def referenced_by(obj: models.Model) -> list[str]:
    """The plural names of the models with rows pointing at `obj`, one `exists()` query per
    relation. Hidden relations (`related_name="+"`, e.g. the audit log's actor and area) count;
    the implicit through tables of many-to-many fields do not."""
    names: set[str] = set()
    for rel in obj._meta.get_fields(include_hidden=True):
        if not (isinstance(rel, ForeignObjectRel) and rel.auto_created and not rel.concrete):
            continue
        model = rel.related_model
        if not isinstance(model, type) or model._meta.auto_created:
            continue
        if model._base_manager.filter(**{rel.field.name: obj}).exists():
            names.add(str(model._meta.verbose_name_plural))
    return sorted(names)
