"""Chinese unless the user chose otherwise.

Django's LocaleMiddleware also follows the browser's Accept-Language header; Fuzhu's staff work
in Chinese whatever their browser says, so only an explicit choice (the language cookie that
the header's switch sets) changes the language. Runs after LocaleMiddleware.
"""

from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class RefuseNulBytesMiddleware:
    """A NUL character in the path, the query string or a form field is never meant: PostgreSQL
    cannot store it, and a search or filter carrying one would fail deep in a query. Refuse the
    request at the door with a 400 that says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in value for values in request.GET.lists() for value in values[1]
        ):
            return _refusal(request)
        form = request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
        if form and any(
            "\x00" in value for _key, values in request.POST.lists() for value in values
        ):
            return _refusal(request)
        return self.get_response(request)


def _refusal(request):
    from django.http import HttpResponseBadRequest, JsonResponse

    message = "the request contains a NUL character, which is not allowed"
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message)
