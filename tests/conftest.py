"""Shared fixtures. The three personas every view and endpoint is tested with:

- officer_a: commune officer of commune A (may edit in A);
- viewer_a:  read-only province monitor assigned on commune A;
- officer_b: commune officer of commune B, who must see nothing of A (404).
"""

import os

import pytest

from ansinh.accounts.roles import Role

PASSWORD = "Mat-khau-thu-nghiem-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas log in with a real password; hashing it with PBKDF2 (hundreds of thousands of
    rounds) costs ~0.5 s a user on CI's two cores and tests nothing of ours."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _data_migrations_after_a_flush(request):
    """The rows the data migrations write (the banks and wallets of `payments` 0002), written
    again when a transactional test before this one emptied the tables. Django and pytest-django
    run the transactional tests (a flush after each) after all the others; with the suite split
    over processes (pytest-xdist, a test file per worker at a time) a worker may run a file with
    transactional tests before another file, which then found no bank."""
    if request.node.get_closest_marker("django_db") is None and not _DB_FIXTURES & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    ensure_data_migrations()


def ensure_data_migrations() -> None:
    """Write the data migrations' rows again if a flush removed them (module fixtures that load
    data with `django_db_blocker.unblock()` call it too: they run before the function fixtures)."""
    import importlib

    from django.apps import apps

    from ansinh.payments.models import Institution

    if not Institution.objects.exists():
        importlib.import_module("ansinh.payments.migrations.0002_load_banks").load(apps, None)


@pytest.fixture
def tree(db):
    """A small legacy tree: province 89 → district 884 → communes A, B; a village under A."""
    from ansinh.areas.models import Area, Level, Tree

    province = Area.objects.create(
        tree=Tree.LEGACY, level=Level.PROVINCE, code="89", name="An Giang", division_type="Tỉnh"
    )
    district = Area.objects.create(
        tree=Tree.LEGACY,
        level=Level.DISTRICT,
        code="884",
        name="Châu Đốc",
        division_type="Thành phố",
        parent=province,
    )
    commune_a = Area.objects.create(
        tree=Tree.LEGACY,
        level=Level.COMMUNE,
        code="30280",
        name="Châu Phú A",
        division_type="Phường",
        parent=district,
    )
    commune_b = Area.objects.create(
        tree=Tree.LEGACY,
        level=Level.COMMUNE,
        code="30283",
        name="Vĩnh Mỹ",
        division_type="Phường",
        parent=district,
    )
    village_a = Area.objects.create(
        tree=Tree.LEGACY, level=Level.VILLAGE, name="Khóm Châu Long 1", division_type="", parent=commune_a
    )
    return type(
        "Tree",
        (),
        {"province": province, "district": district, "a": commune_a, "b": commune_b, "village_a": village_a},
    )


@pytest.fixture
def policy(db):
    """The project's policy file (programmes, categories such as D20.5.6, levels), loaded through
    the service; returns its counts."""
    from django.conf import settings

    from ansinh.policy.services import load_policy

    return load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)


def make_user(username: str, role: str, area, **extra):
    from ansinh.accounts.models import RoleAssignment, User

    user = User.objects.create_user(
        username=username, password=PASSWORD, full_name=username.replace("_", " ").title(), **extra
    )
    RoleAssignment.objects.create(user=user, role=role, area=area)
    return user


@pytest.fixture
def officer_a(tree):
    return make_user("officer_a", Role.COMMUNE_OFFICER, tree.a)


@pytest.fixture
def viewer_a(tree):
    return make_user("viewer_a", Role.PROVINCE_MONITOR, tree.a)


@pytest.fixture
def officer_b(tree):
    return make_user("officer_b", Role.COMMUNE_OFFICER, tree.b)


@pytest.fixture
def personas(officer_a, viewer_a, officer_b):
    return {"officer_a": officer_a, "viewer_a": viewer_a, "officer_b": officer_b}


@pytest.fixture
def client_for(client):
    """client_for(user) -> a Django test client logged in as that user."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


@pytest.fixture
def api_client_for(db):
    """api_client_for(user) -> a test client sending a fresh personal API token."""
    from django.test import Client

    from ansinh.accounts.services import create_api_token

    def _make(user):
        _token, raw = create_api_token(actor=None, user=user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return _make


def pytest_configure(config):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
