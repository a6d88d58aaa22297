"""Django (WSGI): the middleware a `startproject` site uses for pages, minus the database.

SecurityMiddleware (nosniff, Referrer-Policy, Cross-Origin-Opener-Policy),
SessionMiddleware with signed-cookie sessions (no database), CsrfViewMiddleware
and XFrameOptionsMiddleware; templates through Django's Jinja2 backend, which
puts `csrf_input` in every template's context. DEBUG off.
"""

import django
from _page_common import ALLOWED_HOST, ROWS, SECRET_KEY, TEMPLATES
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY=SECRET_KEY,
    ALLOWED_HOSTS=[ALLOWED_HOST],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.jinja2.Jinja2",
            "DIRS": [str(TEMPLATES)],
            "OPTIONS": {},
        }
    ],
    DATABASES={},
    USE_TZ=True,
)
django.setup()


def page(request):
    if request.method == "POST":
        return HttpResponse("saved", content_type="text/plain; charset=utf-8")
    visits = request.session.get("visits", 0)
    return render(request, "django_page.html", {"rows": ROWS, "visits": visits})


urlpatterns = [path("page", page)]

app = get_wsgi_application()
