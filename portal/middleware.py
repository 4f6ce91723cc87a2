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
