from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from ansinh.core.errors import DomainError


def install_error_handlers(api) -> None:
    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        if hasattr(exc, "error_dict"):
            detail = [
                {"loc": ["body", field], "msg": " ".join(str(m) for m in messages), "type": "rule"}
                for field, messages in exc.message_dict.items()
            ]
        else:
            detail = [{"loc": ["body"], "msg": m, "type": "rule"} for m in exc.messages]
        return api.create_response(request, {"detail": detail}, status=422)

    @api.exception_handler(DomainError)
    def on_domain_error(request, exc: DomainError):
        return api.create_response(
            request, {"detail": [{"loc": ["body"], "msg": str(exc), "type": "rule"}]}, status=422
        )

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return api.create_response(request, {"detail": _("Not found.")}, status=404)
