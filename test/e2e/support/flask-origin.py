"""A Flask app as an origin behind the gateway (origin-frameworks.test.ts): the handlers of the demo-like
policy, each answering which handler ran (x-handler, and in the body with the identity headers it got).
Served by Werkzeug's own server, which unquotes PATH_INFO fully (%2F included) as WSGI servers do, with a
method-override WSGI middleware (X-HTTP-Method-Override, ?_method) as apps that accept overrides use.
Prints {"port": N} once listening on 127.0.0.1 (an ephemeral port)."""
import json
import logging
import sys
from urllib.parse import parse_qs

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

ANY = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
app = Flask(__name__)


def echo(handler):
    identity = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-verified-")}
    response = jsonify({"handler": handler, "method": request.method, "path": request.path, "identity": identity})
    response.headers["x-handler"] = handler
    return response


@app.route("/billing/export", methods=["GET"])
def export():
    return echo("export")


@app.route("/billing/admin", methods=ANY)
@app.route("/billing/admin/<path:rest>", methods=ANY)
def admin(rest=""):
    return echo("admin")


@app.route("/billing/<path:rest>", methods=["DELETE"])
def delete(rest):
    return echo("delete")


@app.route("/billing/<path:rest>", methods=["GET", "POST", "PUT"])
def billing(rest):
    return echo("billing")


@app.route("/public/<path:rest>", methods=ANY)
def public(rest):
    return echo("public")


@app.route("/", defaults={"rest": ""}, methods=ANY)
@app.route("/<path:rest>", methods=ANY)
def other(rest):
    return echo("other")


class MethodOverride:
    def __init__(self, wsgi):
        self.wsgi = wsgi

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE") or parse_qs(environ.get("QUERY_STRING", "")).get("_method", [None])[0]
            if override:
                environ["REQUEST_METHOD"] = override.upper()
        return self.wsgi(environ, start_response)


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, MethodOverride(app))
    print(json.dumps({"port": server.port}), flush=True)
    server.serve_forever()
