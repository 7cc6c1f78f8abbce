from datetime import date

import pytest
from django.urls import reverse

from ansinh.audit.models import AuditEvent
from ansinh.policy.models import Category, CoefficientRule, FixedAmount, Programme, StandardLevel


@pytest.mark.parametrize("model", [Programme, Category, StandardLevel, CoefficientRule, FixedAmount])
def test_changelists_show_sources_and_confidence(policy, admin_client, model):
    url = reverse(f"admin:policy_{model._meta.model_name}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    if model is not Programme:
        body = response.content.decode()
        assert "confidence" in body  # the list filter
        assert 'rel="noopener noreferrer"' in body  # sources as links


def test_admin_edit_is_audited_and_shown_in_history(policy, admin_client, admin_user):
    level = StandardLevel.objects.get(programme__code="BTXH", amount=500_000)
    url = reverse("admin:policy_standardlevel_change", args=[level.pk])
    form = {
        "programme": level.programme_id,
        "amount": "510000",
        "effective_from": "2024-07-01",
        "effective_to": "",
        "province": "",
        "legal_basis": level.legal_basis,
        "source": level.source,
        "confidence": "verified",
        "note": "corrected",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    level.refresh_from_db()
    assert level.amount == 510_000
    event = AuditEvent.objects.get(action="policy.standard_level.changed")
    assert event.actor == admin_user
    assert (event.before["amount"], event.after["amount"]) == (500_000, 510_000)

    page = admin_client.get(url).content.decode()
    assert "policy.standard_level.changed" in page
    assert "500000 → 510000" in page


def test_admin_refuses_a_provincial_level_below_national(policy, admin_client, tree):
    url = reverse("admin:policy_standardlevel_add")
    form = {
        "programme": Programme.objects.get(code="BTXH").pk,
        "amount": "400000",
        "effective_from": "2025-01-01",
        "effective_to": "",
        "province": tree.province.pk,
        "legal_basis": "Resolution",
        "source": "",
        "confidence": "verified",
        "note": "",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200  # form redisplayed with the error
    assert "amount" in response.context["adminform"].form.errors
    assert not StandardLevel.objects.filter(province=tree.province).exists()
    assert not AuditEvent.objects.filter(action__startswith="policy.standard_level").exists()


def test_admin_delete_is_audited(policy, admin_client, tree):
    rule = CoefficientRule.objects.create(
        category=Category.objects.get(code="D20.5.8"),
        province=tree.province,
        value="2.0",
        effective_from=date(2025, 1, 1),
    )
    url = reverse("admin:policy_coefficientrule_delete", args=[rule.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not CoefficientRule.objects.filter(pk=rule.pk).exists()
    event = AuditEvent.objects.get(action="policy.coefficient_rule.changed")
    assert event.after is None
    assert event.before["value"] in {"2.0", "2.000"}


def test_staff_without_policy_capability_cannot_change(policy, client, tree):
    from django.contrib.auth.models import Permission

    from ansinh.accounts.models import User

    user = User.objects.create_user(username="staff", password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="policy"))
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    level = StandardLevel.objects.first()
    response = client.post(reverse("admin:policy_standardlevel_change", args=[level.pk]), {"amount": "1"})
    assert response.status_code == 403
    assert client.get(reverse("admin:policy_standardlevel_changelist")).status_code == 200  # may view


# --- province scope: `policy.manage` holds where the role is, not everywhere --------------------


@pytest.fixture
def province_y(tree):
    from ansinh.areas.models import Area, Level, Tree

    return Area.objects.create(
        tree=Tree.LEGACY, level=Level.PROVINCE, code="91", name="Kiên Giang", division_type="Tỉnh"
    )


@pytest.fixture
def province_admin(tree):
    """A staff user with every policy model permission and `policy.manage` on province X (89) only."""
    from django.contrib.auth.models import Permission

    from ansinh.accounts.models import RoleAssignment, User
    from ansinh.accounts.roles import Role

    user = User.objects.create_user(username="qt_tinh", password=None, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="policy"))
    RoleAssignment.objects.create(user=user, role=Role.SYSADMIN, area=tree.province)
    return user


def provincial_level(province, amount=600_000):
    return StandardLevel.objects.create(
        programme=Programme.objects.get(code="BTXH"),
        province=province,
        amount=amount,
        effective_from=date(2025, 1, 1),
        legal_basis="Nghị quyết HĐND",
        confidence="verified",
    )


def level_form(level, **changes):
    form = {
        "programme": level.programme_id,
        "amount": str(level.amount),
        "effective_from": level.effective_from.isoformat(),
        "effective_to": "",
        "province": level.province_id or "",
        "legal_basis": level.legal_basis,
        "source": level.source,
        "confidence": level.confidence,
        "note": "",
    }
    form.update(changes)
    return form


def test_province_admin_edits_own_province_level(policy, client, tree, province_admin):
    level = provincial_level(tree.province)
    client.force_login(province_admin, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:policy_standardlevel_change", args=[level.pk])
    response = client.post(url, level_form(level, amount="650000"))
    assert response.status_code == 302, response.content.decode()[:2000]
    level.refresh_from_db()
    assert level.amount == 650_000


def test_province_admin_cannot_edit_or_delete_another_provinces_level(policy, client, tree, province_y, province_admin):
    level = provincial_level(province_y)
    client.force_login(province_admin, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(reverse("admin:policy_standardlevel_change", args=[level.pk]), level_form(level, amount="1"))
    assert response.status_code == 403
    response = client.post(reverse("admin:policy_standardlevel_delete", args=[level.pk]), {"post": "yes"})
    assert response.status_code == 403
    level.refresh_from_db()
    assert level.amount == 600_000
    assert not AuditEvent.objects.filter(action__startswith="policy.standard_level").exists()


def test_province_admin_cannot_move_a_level_to_another_province(policy, client, tree, province_y, province_admin):
    level = provincial_level(tree.province)
    client.force_login(province_admin, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("admin:policy_standardlevel_change", args=[level.pk])
    response = client.post(url, level_form(level, province=province_y.pk))
    assert response.status_code in (200, 403)
    level.refresh_from_db()
    assert level.province == tree.province


def test_province_admin_cannot_add_for_another_province_or_nationally(policy, client, tree, province_y, province_admin):
    client.force_login(province_admin, backend="django.contrib.auth.backends.ModelBackend")
    template = StandardLevel(
        programme=Programme.objects.get(code="BTXH"), amount=700_000, effective_from=date(2025, 3, 1)
    )
    for province in (province_y.pk, ""):
        response = client.post(reverse("admin:policy_standardlevel_add"), level_form(template, province=province))
        assert response.status_code in (200, 403)
    assert not StandardLevel.objects.filter(amount=700_000).exists()
    response = client.post(reverse("admin:policy_standardlevel_add"), level_form(template, province=tree.province.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StandardLevel.objects.filter(amount=700_000, province=tree.province).exists()


def test_national_rows_only_for_global_admins(policy, client, tree, province_admin):
    client.force_login(province_admin, backend="django.contrib.auth.backends.ModelBackend")
    national = StandardLevel.objects.get(programme__code="BTXH", amount=500_000)
    response = client.post(
        reverse("admin:policy_standardlevel_change", args=[national.pk]), level_form(national, amount="1")
    )
    assert response.status_code == 403
    programme = Programme.objects.get(code="BTXH")
    response = client.post(
        reverse("admin:policy_programme_change", args=[programme.pk]), {"code": "BTXH", "name_vi": "Đổi tên"}
    )
    assert response.status_code == 403
    national.refresh_from_db()
    programme.refresh_from_db()
    assert national.amount == 500_000 and programme.name_vi != "Đổi tên"


def test_policy_service_refuses_another_provinces_row(policy, tree, province_y, province_admin):
    from django.core.exceptions import PermissionDenied

    from ansinh.policy.services import delete_audited, save_audited

    level = provincial_level(province_y)
    level.amount = 1_000_000
    with pytest.raises(PermissionDenied):
        save_audited(actor=province_admin, obj=level)
    with pytest.raises(PermissionDenied):
        delete_audited(actor=province_admin, obj=level)
    assert StandardLevel.objects.get(pk=level.pk).amount == 600_000
