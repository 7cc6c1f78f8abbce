"""Account numbers at rest: MultiFernet encryption (the first key of ANSINH_ACCOUNT_KEYS
encrypts, every key decrypts, so keys can be rotated), an HMAC-SHA256 with a separate key to
find an account by its number, and the masked form shown everywhere else."""

import hashlib
import hmac
import re

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

_NOT_DIGIT = re.compile(r"[\s.\-]")


def normalize_number(number: str) -> str:
    """The number as the bank knows it: spaces, dots and dashes people type are dropped."""
    return _NOT_DIGIT.sub("", number or "").upper()


def _fernet() -> MultiFernet:
    keys = settings.ANSINH_ACCOUNT_KEYS
    if not keys:
        raise RuntimeError("ANSINH_ACCOUNT_KEYS holds no key")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(number: str) -> str:
    return _fernet().encrypt(normalize_number(number).encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same number encrypted with the current (first) key."""
    return _fernet().rotate(token.encode()).decode()


def number_hash(number: str) -> str:
    key = settings.ANSINH_ACCOUNT_HASH_KEY.encode()
    return hmac.new(key, normalize_number(number).encode(), hashlib.sha256).hexdigest()


def mask(number: str) -> str:
    return "•••• " + normalize_number(number)[-4:]


def decryptor():
    """token (bytes) -> number (bytes), for many tokens in a row (writers of transfer files): the
    one key's Fernet when there is one key (MultiFernet adds a loop and an exception frame per
    token, a third of the time), else MultiFernet; the same result, the same InvalidToken."""
    keys = settings.ANSINH_ACCOUNT_KEYS
    if keys and len(keys) == 1:
        return Fernet(keys[0].encode()).decrypt
    return _fernet().decrypt


def encrypt_many(numbers: list[str]) -> list[str]:
    """Many numbers with one MultiFernet (bulk writers: the demo, imports of many accounts)."""
    fernet = _fernet()
    return [fernet.encrypt(normalize_number(n).encode()).decode() for n in numbers]


def hash_many(numbers: list[str]) -> list[str]:
    key = settings.ANSINH_ACCOUNT_HASH_KEY.encode()
    return [hmac.new(key, normalize_number(n).encode(), hashlib.sha256).hexdigest() for n in numbers]
