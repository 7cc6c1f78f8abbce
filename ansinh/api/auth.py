"""Personal-token authentication for the API: `Authorization: Bearer ans_…`."""

from django.utils import timezone
from ninja.security import HttpBearer

from ansinh.accounts.models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or not token.startswith(ApiToken.PREFIX):
            return None
        api_token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
        if api_token is None or not api_token.is_usable:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        user = api_token.user
        user.api_token = api_token
        request.user = user
        return user
