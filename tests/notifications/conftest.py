import pytest


@pytest.fixture(autouse=True)
def _sms_settings(settings):
    settings.ANSINH_SMS_GATEWAY = "sandbox"
    settings.ANSINH_SMS_WINDOW = ("00:00", "00:00")  # always open unless a test sets one
    settings.ANSINH_SMS_MAX_SEGMENTS = 2
    settings.ANSINH_SMS_MAX_ATTEMPTS = 3
    settings.ANSINH_SMS_RETRY_BASE_SECONDS = 60
    settings.ANSINH_SMS_RETRY_MAX_SECONDS = 3600
    settings.ANSINH_SMS_BRANDNAME = "ANSINH"  # the default, whatever the environment says


MOBILE = "+84912345678"
LANDLINE = "+842963861234"  # An Giang landline (0296 …)

VARS = {
    "name": "Nguyễn Thị Ánh",
    "institution": "Agribank",
    "account": "******4321",
    "month": "10/2026",
    "hotline": "0296 3861 234",
}
