"""Django (WSGI, served with granian --interface wsgi), configured in this module.

WSGI because that is how most Django sites are deployed (gunicorn/uWSGI/mod_wsgi); Django's
ASGI handler runs sync views in a thread. Settings are the minimum these views need: no
database, no installed apps, no middleware (Flask gets none either), DEBUG off.
"""

import django
from _common import EXTRA_ROUTES, JSON_BODY, PLAINTEXT
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
)
django.setup()


def plaintext(request):
    return HttpResponse(PLAINTEXT, content_type="text/plain; charset=utf-8")


def json_(request):
    return JsonResponse(JSON_BODY)


def user(request, id):
    return JsonResponse({"id": id})


def item(request, item_id):
    return JsonResponse({"item_id": item_id})


def _page(i):
    def page(request):
        return HttpResponse(f"page {i}", content_type="text/plain; charset=utf-8")

    return page


urlpatterns = []
for i in range(EXTRA_ROUTES):
    urlpatterns.append(path(f"static{i}/page", _page(i)))
    urlpatterns.append(path(f"extra{i}/items/<int:item_id>", item))
urlpatterns += [
    path("plaintext", plaintext),
    path("json", json_),
    path("users/<int:id>", user),
]

app = get_wsgi_application()
