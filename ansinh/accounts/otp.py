"""The second factor (TOTP, django-otp): what approving an account change (and later a payroll)
asks for besides the password.

A user enrols one authenticator app: `start_enrolment` creates an unconfirmed device whose secret
the app reads (QR code or typed); `confirm_enrolment` confirms it with the first code the app
shows. Only a confirmed device verifies codes (`verify`), with django-otp's throttling (each
failure doubles the wait before the next try) and replay protection (a code is accepted once, and
never one older than the last accepted). Re-enrolling (a new phone) needs a current code of the
confirmed device; the old device stays in use until the new one is confirmed. Removing the device
also needs a current code; an administrator can remove a lost one in Django's admin.

The throttling counter is saved by django-otp when a code fails: call `verify` outside a
transaction that a refusal rolls back, or the failure is not counted."""

from __future__ import annotations

from base64 import b32encode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from ansinh.audit.services import record

DEVICE_NAME = "ansinh"


def _devices(user, confirmed: bool | None = None):
    qs = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        qs = qs.filter(confirmed=confirmed)
    return qs.order_by("id")


def has_device(user) -> bool:
    """Whether the user has a confirmed TOTP device."""
    if not getattr(user, "is_authenticated", False):
        return False
    return _devices(user, confirmed=True).exists()


def pending_device(user) -> TOTPDevice | None:
    """The device being enrolled (shown to the user, not yet confirmed), if any."""
    return _devices(user, confirmed=False).last()


def secret_groups(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, as a person types it into an app."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (no image request, no CDN)."""
    import segno

    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def _clean(token: str) -> str:
    return "".join((token or "").split())


def verify(user, token: str) -> bool:
    """Whether `token` is a current code of the user's confirmed device (throttled, never the
    same code twice)."""
    token = _clean(token)
    if not token.isdigit() or not getattr(user, "is_authenticated", False):
        return False
    return any(device.verify_token(token) for device in _devices(user, confirmed=True))


def require_code(user, token: str, *, enrol_first: str) -> None:
    """The second factor of an approval: a ValidationError on `token` when the user has no
    confirmed device (`enrol_first` says what the enrolment is for) or the code is not a current,
    unused one. Call it outside the approval's transaction (see the module's note on throttling)."""
    if not has_device(user):
        raise ValidationError({"token": enrol_first})
    if not verify(user, token):
        raise ValidationError({"token": _("This code is not valid or was already used. Wait for the next code.")})


def start_enrolment(*, actor, token: str = "") -> TOTPDevice:
    """A new unconfirmed device for `actor` (replacing an earlier unconfirmed one). With a
    confirmed device already, a current code of it is needed (re-enrolment)."""
    if has_device(actor) and not verify(actor, token):
        raise ValidationError({"token": _("Enter a current code of your authenticator app.")})
    with transaction.atomic():
        _devices(actor, confirmed=False).delete()
        return TOTPDevice.objects.create(user=actor, name=DEVICE_NAME, confirmed=False)


def confirm_enrolment(*, actor, token: str) -> TOTPDevice:
    """Confirm the pending device with the first code the app shows; an earlier confirmed device
    is removed. Audited."""
    device = pending_device(actor)
    if device is None:
        raise ValidationError(_("Start the enrolment first."))
    if not device.verify_token(_clean(token)):  # saved outside the transaction: throttling counts
        raise ValidationError({"token": _("This code is not valid. Check the time on the phone and try again.")})
    with transaction.atomic():
        replaced = _devices(actor, confirmed=True).exclude(pk=device.pk).delete()[0]
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            actor=actor,
            action="accounts.otp.enrolled",
            obj=actor,
            area=None,
            after={"device": device.name, "replaced": bool(replaced)},
        )
    return device


def remove_device(*, actor, token: str) -> None:
    """Remove the user's devices; a current code of the confirmed one is needed. Audited."""
    if not has_device(actor):
        _devices(actor).delete()
        return
    if not verify(actor, token):
        raise ValidationError({"token": _("Enter a current code of your authenticator app.")})
    with transaction.atomic():
        _devices(actor).delete()
        record(actor=actor, action="accounts.otp.removed", obj=actor, area=None, before={"device": DEVICE_NAME})


def set_device(*, actor, user, key_hex: str) -> TOTPDevice:
    """A confirmed device with a known secret (the demo's documented approver); replaces the
    user's devices. Not for real users: their secret must come from their own enrolment."""
    with transaction.atomic():
        device = _devices(user, confirmed=True).first()
        if device is not None and device.key == key_hex and _devices(user).count() == 1:
            return device
        _devices(user).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key_hex, confirmed=True)
        record(actor=actor, action="accounts.otp.enrolled", obj=user, area=None, after={"device": DEVICE_NAME})
    return device
