"""Django ORM (psycopg, Django's connection pool of 4), WSGI, the Jinja2 template backend.

Settings are configured here: DEBUG off, no middleware (as in bench/apps/django_app.py),
autocommit (Django's default, so a read is one round trip), ``bulk_update`` in
``transaction.atomic`` for /updates.
"""

from operator import attrgetter

import django
from _db_common import (
    ADDITIONAL_FORTUNE,
    DATABASE_URL,
    POOL_SIZE,
    TEMPLATES,
    clamp_queries,
    random_id,
    random_number,
)
from django.conf import settings
from django.urls import path
from sqlalchemy.engine import make_url

_url = make_url(DATABASE_URL)
settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _url.database,
            "USER": _url.username or "postgres",
            "PASSWORD": _url.password or "",
            "HOST": _url.host or "127.0.0.1",
            "PORT": str(_url.port or 5432),
            "OPTIONS": {"pool": {"min_size": POOL_SIZE, "max_size": POOL_SIZE}},
        }
    },
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.jinja2.Jinja2",
            "DIRS": [str(TEMPLATES)],
            "OPTIONS": {"autoescape": True},
        }
    ],
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import models, transaction  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402


class World(models.Model):
    randomnumber = models.IntegerField()

    class Meta:
        app_label = "bench"
        db_table = "world"
        managed = False


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        app_label = "bench"
        db_table = "fortune"
        managed = False


def single(request):
    world = World.objects.get(id=random_id())
    return JsonResponse({"id": world.id, "randomNumber": world.randomnumber})


def queries(request):
    worlds = []
    for _ in range(clamp_queries(request.GET.get("queries"))):
        world = World.objects.get(id=random_id())
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return JsonResponse(worlds, safe=False)


def updates(request):
    worlds = {}
    answer = []
    for _ in range(clamp_queries(request.GET.get("queries"))):
        world = World.objects.get(id=random_id())
        world = worlds.setdefault(world.id, world)
        world.randomnumber = random_number()
        answer.append({"id": world.id, "randomNumber": world.randomnumber})
    with transaction.atomic():
        # Sorted by id: concurrent requests lock rows in the same order (no deadlocks).
        World.objects.bulk_update(sorted(worlds.values(), key=attrgetter("id")), ["randomnumber"])
    return JsonResponse(answer, safe=False)


def fortunes(request):
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": rows})


urlpatterns = [
    path("db", single),
    path("queries", queries),
    path("updates", updates),
    path("fortunes", fortunes),
]
app = get_wsgi_application()
