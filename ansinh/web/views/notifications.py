from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ansinh.accounts.roles import Cap
from ansinh.notifications import queries
from ansinh.notifications.models import MessageStatus

from ..shortcuts import cap_required, paginate

COUNT_CAP = 10_000


@require_GET
@cap_required(Cap.NOTIFICATIONS_VIEW)
def message_list(request):
    """The notification outbox of the user's areas: with the sandbox gateway, the messages the
    phones would have received. Phones masked unless the reader manages users or sees contacts."""
    status = request.GET.get("status", "")
    if status not in MessageStatus.values:
        status = ""
    page = paginate(request, queries.messages_for(request.user, status=status), count_cap=COUNT_CAP)
    visible = queries.phone_visible(request.user)
    for message in page.object_list:
        message.shown_phone = message.phone if visible(message.area_path) else message.masked_phone
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "status": status,
            "statuses": MessageStatus.choices,
            "gateway": settings.ANSINH_SMS_GATEWAY,
        },
    )
