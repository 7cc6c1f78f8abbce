"""Static files storage: WhiteNoise's compressed manifest storage (hashed names, gzip copies)
that links the hashed names with DEBUG on too."""

from django.conf import settings
from django.core import checks
from django.core.files.storage import storages
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class CompressedManifestStorage(CompressedManifestStaticFilesStorage):
    """Django's manifest storage links the plain names while DEBUG is on; WhiteNoise could only
    serve those with a short cache lifetime. `make run` runs with DEBUG=1 on the collected files,
    so it links the hashed names, which WhiteNoise marks immutable."""

    def url(self, name, force=False):
        return super().url(name, force=True)


@checks.register()  # no staticfiles tag: collectstatic runs those, before it has collected
def check_collected(app_configs=None, **kwargs):
    """Every page links its static files through the manifest: warn a developer's runserver
    (DEBUG on) when it is missing. (`make test` runs checks on a clean clone, uncollected.)"""
    storage = storages["staticfiles"]
    if not settings.DEBUG or not isinstance(storage, CompressedManifestStorage):
        return []
    if storage.manifest_storage.exists(storage.manifest_name):
        return []
    return [
        checks.Warning(
            "The static files are not collected: every page will fail to link them.",
            hint=f"Run `python manage.py collectstatic --noinput` (into {settings.STATIC_ROOT}).",
            id="ansinh.W001",
        )
    ]
