"""What every administration page that writes shares: its writes go through the services, so
their rules answer here as they do elsewhere.

- A row something still refers to is not offered for deletion: the confirmation page lists
  what refers to it (`referenced_by`) instead of loading every related row.
- A rule a service enforces that the form could not check beforehand (a race, a rule on
  several rows) comes back as an error message on the same page, with nothing written, rather
  than as a server error."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from .references import referenced_by


def adopt(obj, saved) -> None:
    """Make the admin's unsaved instance the row a service created: the admin goes on with its
    own instance (change message, redirect to the new row)."""
    obj.__dict__.update(saved.__dict__)


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class ServiceWritesMixin(_AdminBase):
    """Put before the ModelAdmin base class: `class XAdmin(ServiceWritesMixin, admin.ModelAdmin)`."""

    def deletion_blockers(self, obj) -> list[str]:
        return referenced_by(obj)

    def get_deleted_objects(self, objs, request):
        protected = []
        for obj in objs:
            refs = self.deletion_blockers(obj)
            if refs:
                protected.append(_("%(obj)s: %(refs)s refer to it") % {"obj": obj, "refs": ", ".join(refs)})
        if protected:
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)

    def _refused(self, request, exc: ValidationError):
        self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:  # the admin's transaction is rolled back by now
            return self._refused(request, exc)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except ValidationError as exc:  # an action refused by a service
            return self._refused(request, exc)
