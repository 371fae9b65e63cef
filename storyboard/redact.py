"""Credentials out of text: any URL's user:password and secret-looking query values and path
segments (`/key=...`) become ***.

Applied to whatever the tool prints or writes (reasons, errors, manifests, failure records), since
a key can arrive inside a URL (`OPENAI_BASE_URL=https://gw/v1?api-key=...`) and then inside a
provider's or an SDK's message."""

from __future__ import annotations

import re

# user:password@ (or a lone token@) right after a scheme
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]+@")
# ?key=..., &api-key=..., ;token=... and any parameter whose name says it holds a secret
_SECRET = r"[\w.\-]*(?:key|token|secret|password|passwd|pwd|signature|sig|auth|credential)[\w.\-]*"
_QUERY = re.compile(rf"(?i)([?&;]{_SECRET}=)[^&#;,)\s'\"<>]+")  # the value ends where the URL or the sentence does
# /key=... as a segment of the path (a gateway that takes its key there): the value ends at the next /
_PATH = re.compile(rf"(?i)(/{_SECRET}=)[^/?&#;,)\s'\"<>]+")


def redact(text: str) -> str:
    """`text` with every credential inside a URL replaced by ***."""
    if "://" not in text and "=" not in text:
        return text
    return _QUERY.sub(r"\1***", _PATH.sub(r"\1***", _USERINFO.sub(r"\1***@", text)))


def scrub(error: BaseException) -> BaseException:
    """Redact an exception's message in place (its args), so whoever prints it later cannot leak."""
    error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
    return error
