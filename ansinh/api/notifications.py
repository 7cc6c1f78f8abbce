from datetime import datetime
from typing import TYPE_CHECKING, Literal

from ninja import Field, Query, Router, Schema

from ansinh.notifications import queries
from ansinh.notifications.models import MessageStatus

from .common import responses

router = Router(tags=["notifications"])

if TYPE_CHECKING:  # an enum built from the model's choices at run time: a plain string to mypy
    StatusValue = str
else:
    StatusValue = Literal[tuple(MessageStatus.values)]


class NotificationFilters(Schema):
    status: StatusValue | None = None
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(50, ge=1, le=200)


class NotificationOut(Schema):
    id: int
    channel: str
    phone: str = Field(..., description="In full where the user manages users or sees contact data, else masked.")
    area_id: int | None
    template_key: str
    text: str
    encoding: str
    segments: int
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    page: int
    has_next: bool


@router.get("/notifications", response=responses({200: NotificationPage}))
def list_notifications(request, filters: Query[NotificationFilters]):
    """The notification outbox of the user's areas, newest first (`notifications.view`)."""
    qs = queries.messages_for(request.auth, status=filters.status or "")
    start = (filters.page - 1) * filters.page_size
    rows = list(qs[start : start + filters.page_size + 1])
    visible = queries.phone_visible(request.auth)
    items = [
        {
            "id": m.pk,
            "channel": m.channel,
            "phone": m.phone if visible(m.area_path) else m.masked_phone,
            "area_id": m.area_id,
            "template_key": m.template_key,
            "text": m.text,
            "encoding": m.encoding,
            "segments": m.segments,
            "status": m.status,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
            "delivered_at": m.delivered_at,
        }
        for m in rows[: filters.page_size]
    ]
    return {"items": items, "page": filters.page, "has_next": len(rows) > filters.page_size}
