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
