"""Receiving accounts: encrypted at rest, found by a keyed hash, masked, keys rotated; the
holder-name check and what it blocks."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from ansinh.audit.models import AuditEvent
from ansinh.payments import crypto, names, queries, services
from ansinh.payments.models import AccountStatus, Institution, ReceivingAccount

NUMBER = "760220501234567"


@pytest.fixture
def account(beneficiary, officer_a, agribank):
    return services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number="7602 2050 1234 567",
        holder_name="Nguyễn Thị Ánh",
    )


def _raw(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT number_encrypted, number_hash, last4 FROM payments_receivingaccount WHERE id = %s", [pk])
        return " ".join(cursor.fetchone())


def test_the_number_is_encrypted_at_rest_and_found_by_its_hash(account):
    raw = _raw(account.pk)
    assert NUMBER not in raw
    assert crypto.decrypt(ReceivingAccount.objects.get(pk=account.pk).number_encrypted) == NUMBER
    assert list(queries.find_accounts("7602-2050-1234-567")) == [account]
    assert not queries.find_accounts("760220501234568").exists()
    assert account.masked_number == "•••• 4567"
    assert account.holder_name == "NGUYEN THI ANH"


def test_the_audit_entry_shows_the_number_masked(account):
    event = AuditEvent.objects.get(action="payments.account.registered")
    assert NUMBER not in json.dumps([event.before, event.after])
    assert event.after["number"] == "•••• 4567"


def test_rotation_reencrypts_with_the_new_key_and_old_keys_are_no_longer_needed(account, settings):
    old_keys = list(settings.ANSINH_ACCOUNT_KEYS)
    before = ReceivingAccount.objects.get(pk=account.pk).number_encrypted
    new_key = Fernet.generate_key().decode()
    settings.ANSINH_ACCOUNT_KEYS = [new_key, *old_keys]
    out = io.StringIO()
    call_command("rotate_account_keys", "--chunk", "1", stdout=out)
    assert json.loads(out.getvalue()) == {"rotated": 1}
    after = ReceivingAccount.objects.get(pk=account.pk).number_encrypted
    assert after != before
    settings.ANSINH_ACCOUNT_KEYS = [new_key]  # the old key retired
    assert crypto.decrypt(after) == NUMBER
    assert list(queries.find_accounts(NUMBER)) == [account]


def test_format_checks_per_institution(beneficiary, officer_a, agribank):
    momo = Institution.objects.get(code="momo")
    cases = [
        ("bank", agribank, "76022050ABC", "number"),
        ("bank", agribank, "12345", "number"),
        ("wallet", momo, "091234567", "number"),
        ("bank", momo, "0912345678", "institution"),
    ]
    for kind, institution, number, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.register_account(
                actor=officer_a,
                beneficiary=beneficiary,
                kind=kind,
                institution=institution,
                number=number,
                holder_name="NGUYEN THI ANH",
            )
        assert field in exc.value.message_dict, (kind, number)
    assert not ReceivingAccount.objects.exists()


@pytest.mark.parametrize(
    ("bank_name", "registered", "strong"),
    [
        ("NGUYEN THI ANH", "Nguyễn Thị Ánh", True),
        ("nguyen thi anh", "Nguyễn Thị Ánh", True),
        ("THI ANH NGUYEN", "Nguyễn Thị Ánh", True),
        ("DANG VAN DUC", "Đặng Văn Đức", True),
        ("NGUYEN THI ANN", "Nguyễn Thị Ánh", False),
        ("TRAN VAN BINH", "Nguyễn Thị Ánh", False),
    ],
)
def test_name_check_ignores_diacritics_case_and_word_order(bank_name, registered, strong):
    score = names.name_score(bank_name, registered)
    assert names.is_strong(score) is strong
    if strong:
        assert score == 100


def test_a_weak_name_blocks_activation_until_a_person_confirms(beneficiary, guardian, officer_a, agribank):
    account = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number="123456789012",
        holder_name="TRAN VAN BINH",  # the guardian's name, but the beneficiary is named as holder
    )
    assert account.name_score < names.STRONG_MATCH
    with pytest.raises(ValidationError):
        services.activate_account(actor=officer_a, account=account)
    services.confirm_holder_name(actor=officer_a, account=account)
    assert services.activate_account(actor=officer_a, account=account).status == AccountStatus.ACTIVE


def test_the_holder_can_be_a_representative(beneficiary, guardian, officer_a, agribank):
    account = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number="123456789012",
        holder_name="BINH VAN TRAN",
        holder_representation=guardian,
    )
    assert account.name_score == 100
    assert services.activate_account(actor=officer_a, account=account).status == AccountStatus.ACTIVE


def test_banks_are_loaded_from_the_policy_file(db):
    agribank = Institution.objects.get(code="VBA")
    assert (agribank.bin, agribank.kind) == ("970405", "bank")
    assert Institution.objects.get(code="VTLMONEY").kind == "wallet"
    assert Institution.objects.count() >= 40
