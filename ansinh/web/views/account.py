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
