"""The SMS and SMTP clients against local servers that speak the providers' protocols.

Request formats from the providers' own documentation and SDK: 46elks' "Send SMS"
(46elks.se/docs/send-sms: POST /a1/sms, basic auth, form from/to/message/whendelivered, JSON
answer with id and status) and twilio-python's MessageList.create (POST
/2010-04-01/Accounts/{AccountSid}/Messages.json, form To/From/Body/StatusCallback; a 201 answer
with sid and status; errors as JSON code/message/status).
"""

from __future__ import annotations

import base64
import smtplib
import socket
import time
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.sms import Elks46Sms, SmsError, TwilioSms
from integrations.smtp import MailError, SmtpSender

NUMBER = "+46701740605"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}


def test_46elks_sends_the_documented_request(httpserver: HTTPServer) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        assert request.headers["Authorization"] == _basic("u123", "secret")
        assert request.mimetype == "application/x-www-form-urlencoded"
        seen.append(_form(request))
        # The answer as 46elks documents it (docs/send-sms, "Response").
        return Response(
            '{"status": "created", "direction": "outgoing", "from": "Kumla", '
            '"created": "2018-07-13T13:57:23.741000", "parts": 1, "to": "+46701740605", '
            '"cost": 3500, "message": "Hej", "id": "s17a6dafb12d6b1cabc053d57dac2b9d8"}',
            content_type="application/json",
        )

    httpserver.expect_request("/a1/sms", method="POST").respond_with_handler(handler)
    client = Elks46Sms("u123", "secret", "Kumla", base_url=httpserver.url_for("/a1"))
    sent = client.send(NUMBER, "Hej", status_url="https://sd.example/s/status/t")
    assert sent.message_id == "s17a6dafb12d6b1cabc053d57dac2b9d8"
    assert seen == [
        {
            "from": "Kumla",
            "to": NUMBER,
            "message": "Hej",
            "whendelivered": "https://sd.example/s/status/t",
        }
    ]


def test_twilio_sends_the_sdk_request(httpserver: HTTPServer) -> None:
    sid = "AC" + "a" * 32
    seen: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        assert request.headers["Authorization"] == _basic(sid, "token")
        seen.append(_form(request))
        return Response(
            '{"sid": "SM304417148af644198a0efaceebc965a5", "status": "queued", '
            '"to": "+46701740605", "from": "+46766861004", "body": "Hej", '
            '"direction": "outbound-api", "api_version": "2010-04-01", "error_code": null}',
            status=201,
            content_type="application/json",
        )

    httpserver.expect_request(
        f"/2010-04-01/Accounts/{sid}/Messages.json", method="POST"
    ).respond_with_handler(handler)
    client = TwilioSms(sid, "token", "+46766861004", base_url=httpserver.url_for(""))
    sent = client.send(NUMBER, "Hej", status_url="https://sd.example/s/status/t")
    assert (sent.provider, sent.message_id, sent.status) == (
        "twilio",
        "SM304417148af644198a0efaceebc965a5",
        "queued",
    )
    assert seen == [
        {
            "To": NUMBER,
            "From": "+46766861004",
            "Body": "Hej",
            "StatusCallback": "https://sd.example/s/status/t",
        }
    ]


@pytest.mark.parametrize(
    ("status", "body", "retry"),
    [
        (400, '{"code": 21211, "message": "The \'To\' number +46701740605 is not a valid '
         'phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", '
         '"status": 400}', False),
        (401, '{"code": 20003, "message": "Authenticate", "status": 401}', True),
        (429, '{"code": 20429, "message": "Too Many Requests", "status": 429}', True),
        (500, "Internal Server Error", True),
        (503, "", True),
    ],
)  # fmt: skip
def test_twilio_errors(httpserver: HTTPServer, status: int, body: str, retry: bool) -> None:
    sid = "AC" + "b" * 32
    httpserver.expect_request(f"/2010-04-01/Accounts/{sid}/Messages.json").respond_with_data(
        body, status=status, content_type="application/json"
    )
    client = TwilioSms(sid, "token", "+46766861004", base_url=httpserver.url_for(""))
    with pytest.raises(SmsError) as caught:
        client.send(NUMBER, "Hej")
    assert caught.value.retry is retry
    assert str(status) in caught.value.reason
    assert "0701740605" not in caught.value.reason and "701740605" not in caught.value.reason


@pytest.mark.parametrize(
    ("status", "body", "retry"),
    [
        (403, "Invalid to number: +46701740605", True),
        (400, "Invalid to number: +46701740605", False),
        (402, "Not enough credits", False),
        (502, "Bad gateway", True),
    ],
)
def test_46elks_errors(httpserver: HTTPServer, status: int, body: str, retry: bool) -> None:
    httpserver.expect_request("/a1/sms").respond_with_data(body, status=status)
    client = Elks46Sms("u", "p", "Kumla", base_url=httpserver.url_for("/a1"))
    with pytest.raises(SmsError) as caught:
        client.send(NUMBER, "Hej")
    assert caught.value.retry is retry
    assert "701740605" not in caught.value.reason


def test_timeouts_and_unreachable_servers_are_retried(httpserver: HTTPServer) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(1.0)
        return Response('{"id": "s1"}', content_type="application/json")

    httpserver.expect_request("/a1/sms").respond_with_handler(slow)
    client = Elks46Sms("u", "p", "Kumla", base_url=httpserver.url_for("/a1"), timeout=0.2)
    with pytest.raises(SmsError) as caught:
        client.send(NUMBER, "Hej")
    assert caught.value.retry and "in time" in caught.value.reason
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    gone = TwilioSms("AC" + "c" * 32, "t", "+4676", base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(SmsError) as caught:
        gone.send(NUMBER, "Hej")
    assert caught.value.retry


def _message():
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "Kumla kommun <enkat@kumla.se>"
    message["To"] = "anna@example.se"
    message["Subject"] = "Två frågor"
    message.set_content("Hej! https://sd.example/s/abc")
    return message


def test_smtp_delivers_to_a_local_server(smtp_server) -> None:
    controller, inbox = smtp_server()
    SmtpSender("127.0.0.1", controller.port, security="none").send(_message())
    [(sender, recipients, content)] = inbox.messages
    assert sender == "enkat@kumla.se" and recipients == ["anna@example.se"]
    assert b"https://sd.example/s/abc" in content


def test_smtp_refusals_and_outages(smtp_server) -> None:
    controller, _ = smtp_server(refuse=True)
    port = controller.port
    with pytest.raises(MailError) as caught:
        SmtpSender("127.0.0.1", port, security="none").send(_message())
    assert caught.value.retry is False and "anna@" not in caught.value.reason
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(MailError) as caught:
        SmtpSender("127.0.0.1", closed, security="none", timeout=2).send(_message())
    assert caught.value.retry is True
    # A server that does not offer STARTTLS when it is required: refused, retried later.
    with pytest.raises(MailError):
        SmtpSender("127.0.0.1", port, security="starttls").send(_message())
    assert smtplib  # the standard library does the talking
