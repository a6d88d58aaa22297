"""Flask (WSGI) with Flask-WTF's CSRFProtect; security headers from an after_request hook.

Flask has no security-header middleware of its own, so the hook sets the same headers
Satchel and Django send by default. The CSRF secret lives in Flask's signed cookie
session, as Satchel's does.
"""

from _page_common import ALLOWED_HOST, ROWS, SECRET_KEY, TEMPLATES
from flask import Flask, render_template, request, session
from flask_wtf.csrf import CSRFProtect

app = Flask(__name__, template_folder=str(TEMPLATES))
app.config.update(SECRET_KEY=SECRET_KEY, TRUSTED_HOSTS=[ALLOWED_HOST])
CSRFProtect(app)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@app.after_request
def security_headers(response):
    response.headers.update(SECURITY_HEADERS)
    return response


@app.route("/page", methods=["GET", "POST"])
def page():
    if request.method == "POST":
        return "saved", 200, {"content-type": "text/plain; charset=utf-8"}
    return render_template("flask_page.html", rows=ROWS, visits=session.get("visits", 0))
