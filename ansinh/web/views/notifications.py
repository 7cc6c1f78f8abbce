from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.core.exporter import TitleBlock, unit_name
from ansinh.notifications import queries, services
from ansinh.notifications.models import MessageStatus

from ..printing import PrintList, heading_for, print_response
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


# --- the village head's list ---------------------------------------------------------------------


def _village_filter(request):
    """The area asked for with ?area= (one of the user's villages or communes; 404 otherwise),
    or None for all the user's areas."""
    value = request.GET.get("area", "")
    if not value.isdigit() or len(value) > 18:
        return None
    return get_object_or_404(access.areas_for(request.user, Cap.NOTIFICATIONS_VILLAGE), pk=int(value))


def _areas_to_choose(user) -> list:
    """The villages (and communes) the user may pick their list by, in name order: a village
    head's one village, a commune officer's villages. None when there is one area only."""
    areas = list(
        access.areas_for(user, Cap.NOTIFICATIONS_VILLAGE)
        .filter(level__in=(Level.COMMUNE, Level.VILLAGE))
        .order_by("path")[:500]
    )
    return areas if len(areas) > 1 else []


def _notices(request, area):
    return services.village_notices(request.user, area=area).select_related("area", "beneficiary", "representative")


def _person(message) -> str:
    person = message.representative or message.beneficiary
    return person.full_name if person is not None else ""


def _list_url(area) -> str:
    url = reverse("notifications:village_list")
    return f"{url}?area={area.pk}" if area is not None else url


@require_GET
@cap_required(Cap.NOTIFICATIONS_VILLAGE)
def village_list(request):
    """The village head's list: the payment notices of the people of their villages who cannot
    read an SMS in Vietnamese or have no phone, to read out to them; tick those told and press
    "Đã thông báo". A commune officer sees the list of every village of the commune."""
    area = _village_filter(request)
    page = paginate(request, _notices(request, area), count_cap=COUNT_CAP)
    for message in page.object_list:
        message.person_name = _person(message)
    context = {
        "page": page,
        "area": area,
        "areas": _areas_to_choose(request.user),
        "print_url": reverse("notifications:village_print") + (f"?area={area.pk}" if area is not None else ""),
    }
    return render(request, "notifications/village_list.html", context)


@require_POST
@cap_required(Cap.NOTIFICATIONS_VILLAGE)
def village_delivered(request):
    """Mark the ticked notices delivered (only those of the user's areas still waiting)."""
    ids = [int(i) for i in request.POST.getlist("message") if i.isdigit() and len(i) < 19]
    marked = services.mark_village_delivered(actor=request.user, message_ids=ids) if ids else 0
    if marked:
        messages.success(request, _("%(n)s notices marked as told to the person.") % {"n": marked})
    else:
        messages.info(request, _("Tick the notices you have told the people."))
    area = None
    value = request.POST.get("area", "")
    if value.isdigit() and len(value) < 19:
        area = access.areas_for(request.user, Cap.NOTIFICATIONS_VILLAGE).filter(pk=int(value)).first()
    return redirect(_list_url(area))


@require_GET
@cap_required(Cap.NOTIFICATIONS_VILLAGE)
def village_print(request):
    """The village head's list on paper (A4, the house's print layout): every notice waiting,
    village by village, with a column where the person signs on request (?sign=1). Audited."""
    area = _village_filter(request)
    notices = _notices(request, area)
    count = notices.count()
    limit = settings.ANSINH_EXPORT_MAX_ROWS
    if count > limit:
        messages.error(request, _("More than %(limit)s notices: print the list of one village.") % {"limit": limit})
        return redirect(_list_url(area))
    title = _("Payment notices to read out to the people")
    block, place = heading_for(request.user, Cap.NOTIFICATIONS_VILLAGE, title)
    if area is not None:
        block = TitleBlock(unit=unit_name(area), title=block.title, lines=(area.full_name,))
        place = (area.parent if area.level == Level.VILLAGE and area.parent else area).name
    services.record_village_list_printed(actor=request.user, area=area, rows=count)
    rows = (
        [
            i,
            message.area.name if message.area is not None else "",
            _person(message),
            message.text,
            timezone.localtime(message.created_at).strftime("%d/%m/%Y"),
        ]
        for i, message in enumerate(notices.iterator(chunk_size=500), start=1)
    )
    page = PrintList(
        block=block,
        place=place,
        headers=[pgettext("village list", "No."), _("Village"), _("Recipient"), _("Notice"), _("Date")],
        rows=rows,
        landscape=True,
        sign=request.GET.get("sign") == "1",
        back_url=_list_url(area),
        empty_text=_("No notice waits on the village head's list."),
    )
    return print_response(request, page)
