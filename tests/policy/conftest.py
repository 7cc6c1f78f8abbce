import pytest


@pytest.fixture
def admin_user(db):
    from ansinh.accounts.models import User

    return User.objects.create_superuser(username="policy_admin", password=None)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    return client
