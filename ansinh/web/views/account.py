from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ansinh.accounts.models import ApiToken
from ansinh.accounts.services import create_api_token, default_token_days, revoke_api_token

from ..forms import ApiTokenForm


def _my_tokens(user):
    return ApiToken.objects.filter(user=user).select_related("user").order_by("-created_at")


@never_cache
@login_required
def tokens(request):
    """The user's personal API tokens. A new token's raw value is shown once, in this response;
    it expires after `settings.ANSINH_API_TOKEN_DAYS` days."""
    form, raw = ApiTokenForm(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        _token, raw = create_api_token(actor=request.user, user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    context = {"form": form, "raw": raw, "tokens": _my_tokens(request.user), "token_days": default_token_days()}
    return render(request, "account/tokens.html", context)


@require_POST
@login_required
def revoke_token(request, pk: int):
    token = get_object_or_404(_my_tokens(request.user), pk=pk)
    revoke_api_token(actor=request.user, token=token)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.key_prefix})
    return redirect("account:tokens")


@never_cache
@login_required
def two_factor(request):
    """The user's authenticator app (TOTP): enrol it (secret, otpauth:// URI and QR code, then the
    first code), re-enrol or remove it with a current code. POST `action`: start, confirm, remove."""
    from django.core.exceptions import ValidationError

    from ansinh.accounts import otp

    from ..forms_otp import OtpCodeForm

    form = OtpCodeForm(request.POST or None)
    action = request.POST.get("action", "")
    status = 200
    if request.method == "POST" and action in ("start", "confirm", "remove"):
        token = form.data.get("token", "")
        try:
            if action == "start":
                otp.start_enrolment(actor=request.user, token=token)
            elif action == "confirm":
                otp.confirm_enrolment(actor=request.user, token=token)
                messages.success(request, _("Your authenticator app is enrolled."))
            else:
                otp.remove_device(actor=request.user, token=token)
                messages.success(request, _("Your authenticator app was removed."))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
            status = 422
        else:
            return redirect("account:two_factor")
    pending = otp.pending_device(request.user)
    context = {
        "form": OtpCodeForm() if status == 200 else form,
        "enrolled": otp.has_device(request.user),
        "pending": pending,
        "secret": otp.secret_groups(pending) if pending else "",
        "uri": pending.config_url if pending else "",
        "qr": otp.qr_svg(pending) if pending else "",
    }
    return render(request, "account/two_factor.html", context, status=status)
