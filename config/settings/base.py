"""Fuzhu settings. Everything that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("FUZHU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "guardian",
    "django_celery_beat",
    "workflows",
    "processes",
    "processes.petitions",
    "processes.devices",
    "processes.medication",
    "registry",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RefuseNulBytesMiddleware",
    "workflows.audit_origin.AuditOriginMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _database_from_environment() -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'fuzhu.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE makes every transaction take SQLite's write lock at BEGIN, so two writers
        # serialise instead of both reading a task as open (SQLite ignores select_for_update).
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Short OLTP queries: JIT compilation costs more than it saves (measured on the inbox).
        config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return config


DATABASES = {"default": _database_from_environment()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "workflows.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fuzhu (扶助) API",
    "DESCRIPTION": "Process definitions, instances, human tasks and audit history.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# The roles (docs/architecture.md), with the Chinese names shown to people and used as lane names.
FUZHU_ROLES = {
    "process_owner": "流程管理员",
    "county_staff": "县残联工作人员",
    "township_staff": "乡镇残联工作人员",
    "village_officer": "村社区专职委员",
    "finance": "县财政局",
    "assessor": "评估机构",
    "provider": "服务机构",
    "petition_office": "信访办",
    "auditor": "审计",
}

WORKFLOWS = {
    "ROLES": FUZHU_ROLES,
    "SCOPE_RESOLVER": "registry.scopes.RegistryScopeResolver",
    "MAX_BPMN_BYTES": int(os.environ.get("FUZHU_MAX_BPMN_BYTES", 5 * 1024 * 1024)),
    # Diagram code: its time, what one operation may build or walk, how much it may grow the
    # process by; a case's data as saved (docs/deployment.md, "Limits").
    "SCRIPT_TIME_LIMIT_SECONDS": float(os.environ.get("FUZHU_SCRIPT_TIME_LIMIT_SECONDS", "1")),
    "SCRIPT_MAX_ITEMS": int(os.environ.get("FUZHU_SCRIPT_MAX_ITEMS", 1_000_000)),
    "SCRIPT_MEMORY_LIMIT_MB": int(os.environ.get("FUZHU_SCRIPT_MEMORY_LIMIT_MB", 256)),
    "MAX_CASE_DATA_BYTES": int(os.environ.get("FUZHU_MAX_CASE_DATA_BYTES", 2 << 20)),
    "MAX_CASE_STATE_BYTES": int(os.environ.get("FUZHU_MAX_CASE_STATE_BYTES", 64 << 20)),
    "MAX_CASE_DATA_DEPTH": int(os.environ.get("FUZHU_MAX_CASE_DATA_DEPTH", 100)),
    "FORM_DIRS": [BASE_DIR / "processes" / "forms"],
    "DMN_DIRS": [BASE_DIR / "processes" / "dmn"],
    "PROCESS_DIRS": [BASE_DIR / "processes" / "bpmn"],
    # FUZHU_EXTRA_HANDLER_MODULES: more modules that register service handlers, comma-separated.
    "HANDLER_MODULES": [
        "processes.handlers",
        *filter(
            None, os.environ.get("FUZHU_EXTRA_HANDLER_MODULES", "").replace(" ", "").split(",")
        ),
    ],
    "DEPLOYER_ROLE": "process_owner",
    "OPERATOR_ROLE": "process_owner",
    "READ_ALL_ROLES": ["auditor", "process_owner"],
    # The audit area is the auditors'; process owners replay cases to run operations.
    "AUDIT_ROLES": ["auditor", "process_owner"],
    "AUDIT_ONLY_ROLES": ["auditor"],
    # poll: the embedded runner (manage.py run_jobs); celery: workers on a broker.
    "JOB_DISPATCH": os.environ.get("FUZHU_JOB_DISPATCH", "poll"),
    "SWEEP_INTERVAL_SECONDS": int(os.environ.get("FUZHU_SWEEP_SECONDS", "30")),
    # A job still running this long after a worker claimed it is presumed lost (the worker died)
    # and run again by the sweep: keep it well above the slowest handler's run time.
    "JOB_LEASE_SECONDS": int(os.environ.get("FUZHU_JOB_LEASE_SECONDS", "300")),
    "ESCALATION_ROLE": "county_staff",
    "NOTIFICATION_BACKENDS": {
        "email": os.environ.get("FUZHU_EMAIL_BACKEND", "workflows.notifications.FileBackend"),
        "sms": os.environ.get("FUZHU_SMS_BACKEND", "workflows.notifications.FileBackend"),
    },
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "fuzhu-verify-audit": {
        "task": "workflows.verify_audit_chains",
        "schedule": 24 * 3600.0,
    },
    "fuzhu-sweep": {
        "task": "workflows.sweep",
        "schedule": float(WORKFLOWS["SWEEP_INTERVAL_SECONDS"]),
    },
}

# The registry (org units, memberships, persons, certificates); defaults in registry/conf.py.
REGISTRY = {
    "IMPORT_RUNNER": os.environ.get("FUZHU_IMPORT_RUNNER", "thread"),
    # An upload as it will be read: an .xlsx unpacked, its compression, each cell, its rows.
    "IMPORT_MAX_UNCOMPRESSED_BYTES": int(
        os.environ.get("FUZHU_IMPORT_MAX_UNCOMPRESSED_BYTES", 256 << 20)
    ),
    "IMPORT_MAX_COMPRESSION_RATIO": int(os.environ.get("FUZHU_IMPORT_MAX_COMPRESSION_RATIO", 100)),
    "IMPORT_MAX_CELL_CHARS": int(os.environ.get("FUZHU_IMPORT_MAX_CELL_CHARS", 32_767)),
    "IMPORT_MAX_ROWS": int(os.environ.get("FUZHU_IMPORT_MAX_ROWS", 200_000)),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- The portal: log-in throttling (django-axes), idle sessions, static files, uploads ---------
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # after auth, as axes requires
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_FAILURE_LIMIT = int(os.environ.get("FUZHU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("FUZHU_LOGIN_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_VERBOSE = False
# A session ends after this long without a request (sliding: every request renews it).
SESSION_COOKIE_AGE = int(os.environ.get("FUZHU_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
MEDIA_ROOT = VAR_DIR / "media"
WORKFLOWS["ATTACHMENT_MAX_BYTES"] = int(os.environ.get("FUZHU_ATTACHMENT_MAX_BYTES", 10 << 20))
PORTAL = {
    "PAGE_SIZE": 25,
    "DUE_SOON_DAYS": int(os.environ.get("FUZHU_DUE_SOON_DAYS", "2")),
    # Instance variables that name the applicant (shown on tasks and cases, searched).
    "APPLICANT_NAME_VARIABLE": "applicant_name",
    "APPLICANT_ID_VARIABLE": "applicant_id",
}
TEMPLATES[0]["OPTIONS"]["context_processors"].append("portal.context_processors.nav")
MIDDLEWARE += ["portal.middleware.ChosenLanguageMiddleware"]  # zh-Hans unless the user chose
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# Reverse proxies whose X-Forwarded-For names the client (the audit log records its address).
TRUSTED_PROXIES = [p for p in os.environ.get("FUZHU_TRUSTED_PROXIES", "").split(",") if p]
