"""boto3 clients for the CLI: one session, the `--endpoint-url`/`--region` overrides, and
retries that give up quickly enough for an interactive command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, NoRegionError

from filetrail.errors import UsageError
from handlers.aws_errors import translate
from handlers.errors import AwsError

if TYPE_CHECKING:
    from collections.abc import Mapping

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=20,
)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - a name


class Clients:
    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        try:
            self._session = session or boto3.session.Session(
                region_name=region, profile_name=profile
            )
        except BotoCoreError as error:
            raise translate(error, "open AWS session") from error
        self._endpoint_url = endpoint_url
        self._cache: dict[str, Any] = {}

    @property
    def region(self) -> str | None:
        return self._session.region_name

    def client(self, service: str) -> Any:
        if service not in self._cache:
            try:
                self._cache[service] = self._session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self._endpoint_url,
                    config=CLIENT_CONFIG,
                )
            except NoRegionError as error:
                raise AwsError(
                    "no AWS region configured: pass --region or set AWS_REGION "
                    "(or AWS_DEFAULT_REGION)"
                ) from error
            except ValueError as error:
                # botocore refuses a malformed endpoint URL with a bare ValueError.
                raise UsageError(f"--endpoint-url/AWS_ENDPOINT_URL: {error}") from error
            except BotoCoreError as error:
                raise translate(error, f"create {service} client") from error
        return self._cache[service]

    def endpoint_for(self, service: str) -> str:
        return str(self.client(service).meta.endpoint_url)

    def is_emulated(self, service: str, environ: Mapping[str, str]) -> bool:
        """True when calls go to a custom endpoint (the local stack), not to AWS."""
        if self._endpoint_url:
            return True
        env = f"AWS_ENDPOINT_URL_{service.upper()}"
        if environ.get(env) or environ.get("AWS_ENDPOINT_URL"):
            return True
        host = urlparse(self.endpoint_for(service)).hostname or ""
        return host in LOCAL_HOSTS
