from django.conf import settings
from django.db import OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# Every script and style is served by xiaobao itself; nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages with personal data must not linger in shared browser caches.
            response.headers.setdefault("Cache-Control", "no-store")
        if settings.PRODUCTION:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


# What the databases say when a write could not get its lock in time (SQLite's busy timeout,
# PostgreSQL's lock_timeout): nothing was written, and the same request will go through shortly.
BUSY_SIGNS = ("database is locked", "database table is locked", "lock timeout", "could not obtain lock")
RETRY_AFTER_SECONDS = 10


def database_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and any(sign in str(exc).lower() for sign in BUSY_SIGNS)


class DatabaseBusyMiddleware:
    """A write that waited out the database's lock timeout (on SQLite, behind a long import) answers
    503 with a Chinese "busy, try again" message, not a 500: its transaction was rolled back whole."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_busy(exception):
            return None
        message = _("系统正忙 (可能正在导入数据), 本次操作未保存任何内容, 请稍后重试")
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message, "code": "busy"}, status=503)
        else:
            response = render(request, "busy.html", {"message": message}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class NullCharacterMiddleware:
    """A NUL character in a query or form parameter, or in the path, is refused with 400 before the
    view runs: PostgreSQL can neither store nor compare text that holds one (every filter and search
    would answer 500), SQLite's full-text search neither, and nobody types one. The API answers for
    its own parameters, in JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        posted = request.POST if request.method == "POST" else {}
        if (
            _holds_nul(request.GET)
            or (posted and _holds_nul(posted))
            or any("\x00" in str(value) for value in view_kwargs.values())
        ):
            return render(request, "400.html", status=400)
        return None


def _holds_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())
