import pytest


@pytest.fixture
def policy(db):
    """The project's policy file, loaded through the service."""
    from ansinh.policy.services import load_policy

    return load_policy(actor=None)


@pytest.fixture
def admin_user(db):
    from ansinh.accounts.models import User

    return User.objects.create_superuser(username="policy_admin", password=None)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    return client
