"""Credentials inside URLs never reach what the tool prints or writes."""

from __future__ import annotations

import pytest

from storyboard.redact import redact, scrub


@pytest.mark.parametrize("text, shown", [
    ("no Videos API at http://127.0.0.1:5/v1?api-key=sekrit; set OPENAI_BASE_URL",
     "no Videos API at http://127.0.0.1:5/v1?api-key=***; set OPENAI_BASE_URL"),
    ("https://gw.example/v1?a=1&token=abc&b=2", "https://gw.example/v1?a=1&token=***&b=2"),
    ("GET https://h/files/f1:download?alt=media&key=AIzaXYZ", "GET https://h/files/f1:download?alt=media&key=***"),
    ("https://ana:hunter2@gw.example/v1", "https://***@gw.example/v1"),
    ("https://gw.example/v1?X-Amz-Signature=deadbeef#part", "https://gw.example/v1?X-Amz-Signature=***#part"),
    ("the clip lasts 12.00s; the shot needs 14s", "the clip lasts 12.00s; the shot needs 14s"),
    ("monkey=banana in plain words", "monkey=banana in plain words"),
    # a key in the base URL's path (issue 22, item 4)
    ("no Videos API at http://127.0.0.1:5/key=sekrit/v1; set OPENAI_BASE_URL",
     "no Videos API at http://127.0.0.1:5/key=***/v1; set OPENAI_BASE_URL"),
    ("https://gw.example/v1/api-key=sekrit", "https://gw.example/v1/api-key=***"),
    ("https://gw.example/v1;token=sekrit/videos", "https://gw.example/v1;token=***"),  # more hidden than needed
    ("https://gw.example/proxy/auth_token=a.b-c/v1?x=1", "https://gw.example/proxy/auth_token=***/v1?x=1"),
])
def test_redact(text, shown):
    assert redact(text) == shown


def test_scrub_redacts_an_exception_in_place():
    e = RuntimeError("cannot reach https://u:p@host/v1?token=t")
    assert scrub(e) is e and str(e) == "cannot reach https://***@host/v1?token=***"
