"""Settings for the test suite: same as base, fast password hashing, a throwaway var dir."""

import os
import tempfile

os.environ.setdefault("FUZHU_VAR_DIR", tempfile.mkdtemp(prefix="fuzhu-test-"))

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
