"""Object storage behind a URL (S3 and what speaks its API: MinIO, R2, Backblaze, GCS's
interoperability endpoint), reduced to the few operations the shared cache needs, each with the
condition that makes it safe between processes and machines:

- `create`: a conditional PUT (`If-None-Match: *`): exactly one of any number of writers wins;
- `replace`: a compare-and-swap (`If-Match: <etag>`): a writer that read an older version loses;
- `delete`: optionally on an ETag as well, so a delete never removes what another just wrote.

S3 has evaluated these conditions atomically since 2024. Through s3fs (fsspec's S3 file system; it
exposes the exclusive create as `mode="create"` and passes `IfMatch` through to PutObject). A
create or replace whose reply was lost and was retried (by botocore or s3fs) answers 412 although
it was applied; so on a 412 the object is read back, and when it holds exactly our bytes (every
document we write conditionally carries a nonce) it is ours.

Credentials, region and endpoint come from the standard AWS environment and config files
(AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws/config, AWS_ENDPOINT_URL...); nothing here reads, prints
or writes them."""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from pathlib import Path

from storyboard.errors import UsageError
from storyboard.redact import redact

SCHEMES = ("s3", "s3a")


def is_object_url(url: str) -> bool:
    return "://" in url and url.split("://", 1)[0].lower() not in ("file", "")


class ObjectStore(ABC):
    """Objects under one prefix, named by keys relative to it ("clips/ab/abcd.../meta.json")."""

    url: str

    @abstractmethod
    def read(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when it does not exist."""

    @abstractmethod
    def create(self, key: str, data: bytes) -> str | None:
        """Write `key` only if it does not exist; its ETag, or None when it existed."""

    @abstractmethod
    def replace(self, key: str, data: bytes, etag: str) -> str | None:
        """Overwrite `key` only if it is still the version `etag`; the new ETag, or None if not."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> str:
        """Write `key` whatever is there (objects no one else writes: parts under a fresh name)."""

    @abstractmethod
    def delete(self, key: str, etag: str | None = None) -> bool:
        """Remove `key` (only the version `etag`, when given); False when it was not that version."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """Bytes of `key` as stored, or None when it does not exist."""

    @abstractmethod
    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (S3 lists with strong consistency since 2020)."""

    def download(self, key: str, dest: Path) -> bool:
        """`key` into the local file `dest` (written whole by the caller's rules); False if missing."""
        got = self.read(key)
        if got is None:
            return False
        dest.write_bytes(got[0])
        return True

    def copy(self, src: str, dst: str) -> bool:
        got = self.read(src)
        if got is None:
            return False
        self.put(dst, got[0])
        return True


class S3Store(ObjectStore):
    """An S3-compatible bucket and prefix through s3fs."""

    def __init__(self, url: str, endpoint_url: str | None = None):
        try:
            import s3fs
            from fsspec.asyn import sync
        except ImportError:
            raise UsageError(f"the cache {url} is on object storage, which needs the optional extra: "
                             "pip install 'storyboard[cluster]'") from None
        scheme, rest = url.split("://", 1)
        if scheme.lower() not in SCHEMES:
            raise UsageError(f"the cache URL {url} names {scheme}://, which storyboard cannot write safely; "
                             "use s3:// (for MinIO, R2, Backblaze or GCS interoperability, set the endpoint with "
                             "AWS_ENDPOINT_URL or [cache] endpoint_url)")
        self.bucket, _, prefix = rest.partition("/")
        if not self.bucket:
            raise UsageError(f"the cache URL {url} names no bucket; write it as s3://BUCKET/PREFIX")
        self.prefix = prefix.strip("/")
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        kw = {"client_kwargs": {"endpoint_url": endpoint_url}} if endpoint_url else {}
        self.fs = s3fs.S3FileSystem(**kw)  # credentials: botocore's chain (environment, config files, roles)
        self._sync = sync

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, method: str, **kw):
        return self.fs.call_s3(method, Bucket=self.bucket, **kw)

    @staticmethod
    def _code(e: BaseException) -> str:
        cause = e.__cause__ or e
        resp = getattr(cause, "response", None) or {}
        return str(resp.get("Error", {}).get("Code", ""))

    def _absent(self, e: FileNotFoundError) -> None:
        """A missing key is an answer; a missing bucket is the user's to fix."""
        if self._code(e) == "NoSuchBucket":
            raise UsageError(f"the bucket of the cache {self.url} does not exist, or these credentials cannot "
                             "see it: create it, or correct STORYBOARD_CACHE or [cache] url") from None

    def read(self, key: str) -> tuple[bytes, str] | None:
        async def get():
            resp = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self._key(key))
            try:
                return await resp["Body"].read(), resp["ETag"]
            finally:
                resp["Body"].close()
        try:
            return self._sync(self.fs.loop, get)
        except FileNotFoundError as e:
            self._absent(e)
            return None

    def _ours(self, key: str, data: bytes) -> str | None:
        """After a 412: the ETag if the object holds exactly our bytes (a retried write that landed)."""
        got = self.read(key)
        return got[1] if got is not None and got[0] == data else None

    def create(self, key: str, data: bytes) -> str | None:
        try:
            return self._call("put_object", Key=self._key(key), Body=data, IfNoneMatch="*")["ETag"]
        except FileExistsError:
            return self._ours(key, data)
        except OSError as e:
            if self._code(e) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return self._ours(key, data)
            raise

    def replace(self, key: str, data: bytes, etag: str) -> str | None:
        try:
            return self._call("put_object", Key=self._key(key), Body=data, IfMatch=etag)["ETag"]
        except FileNotFoundError as e:
            self._absent(e)
            return None  # deleted meanwhile: the version we judged is gone
        except OSError as e:
            if self._code(e) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return self._ours(key, data)
            raise

    def put(self, key: str, data: bytes) -> str:
        return self._call("put_object", Key=self._key(key), Body=data)["ETag"]

    def delete(self, key: str, etag: str | None = None) -> bool:
        try:
            self._call("delete_object", Key=self._key(key), **({"IfMatch": etag} if etag else {}))
        except FileNotFoundError:
            return etag is None
        except OSError as e:
            if self._code(e) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def size(self, key: str) -> int | None:
        try:
            return int(self._call("head_object", Key=self._key(key))["ContentLength"])
        except FileNotFoundError as e:
            self._absent(e)
            return None

    def keys(self, prefix: str) -> list[str]:
        out, token = [], None
        full = self._key(prefix)
        while True:
            resp = self._call("list_objects_v2", Prefix=full, **({"ContinuationToken": token} if token else {}))
            cut = len(self.prefix) + 1 if self.prefix else 0
            out += [o["Key"][cut:] for o in resp.get("Contents", [])]
            if not resp.get("IsTruncated"):
                return out
            token = resp["NextContinuationToken"]

    def copy(self, src: str, dst: str) -> bool:
        try:
            self._call("copy_object", Key=self._key(dst), CopySource={"Bucket": self.bucket, "Key": self._key(src)})
        except FileNotFoundError:
            return False
        return True


def open_store(url: str, endpoint_url: str | None = None) -> ObjectStore:
    """The object store a cache URL names (UsageError naming the fix when it cannot be used)."""
    try:
        return S3Store(url, endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or None)
    except UsageError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken config file, an unknown profile: say what, never the keys
        raise UsageError(f"cannot open the cache {url}: {redact(str(e))}") from None


def describe_error(e: BaseException) -> str:
    """An object-storage error for a message: its code and words, never a credential."""
    with contextlib.suppress(Exception):
        cause = e.__cause__ or e
        err = getattr(cause, "response", {}).get("Error", {})
        if err:
            return redact(f"{err.get('Code', '')}: {err.get('Message', '')}")
    return redact(str(e))
