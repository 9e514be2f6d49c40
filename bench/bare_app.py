"""The baseline: a bare Flask endpoint that parses the JSON body and answers 202, nothing more."""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/events")
def events():  # noqa: ANN201
    payload = request.get_json()
    n = len(payload["events"]) if "events" in payload else 1
    response = jsonify(accepted=n, duplicates=0)
    response.status_code = 202
    return response
