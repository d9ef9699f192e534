"""Store URLs: which backend, where, with which options, and a form safe to print."""

from __future__ import annotations

import math
import re
import urllib.parse
from typing import Final

import attrs

from experiments.errors import StoreURLError
from experiments.model._validate import unfit_text

__all__ = ["DEFAULT_TIMEOUT", "HIDDEN", "SECRET_PARAMS", "StoreURL", "mask_secrets"]

#: Seconds a store waits for a lock another process holds (the ``?timeout=`` option of
#: the SQLite and JSON directory stores) before it gives up with a StoreError.
DEFAULT_TIMEOUT: Final = 30.0

#: What stands in the place of a secret in every message.
HIDDEN: Final = "***"
#: Query parameters whose value is a secret, whatever the backend.
SECRET_PARAMS: Final = frozenset({"password", "passwd", "pass", "secret", "token", "sslpassword"})
#: A secret at least this long is masked wherever it stands in a message.
_WHOLE_SECRET: Final = 4


@attrs.frozen(repr=False)
class StoreURL:
    """A parsed store URL such as ``sqlite:///programme.db?synchronous=normal``.

    File-based schemes follow SQLAlchemy's spelling: three slashes and a relative path
    (``sqlite:///data/programme.db``), four for an absolute one
    (``sqlite:////srv/data/programme.db``).  Printing a StoreURL never shows a password.
    """

    scheme: str
    netloc: str = attrs.field(repr=False)
    path: str
    params: dict[str, str] = attrs.field(factory=dict)
    _raw: str = attrs.field(default="", repr=False, alias="raw")

    @classmethod
    def parse(cls, text: str) -> StoreURL:
        """A StoreURL from text.

        Raises:
            StoreURLError: the text is not a URL with a scheme.
        """
        candidate: object = text
        if not isinstance(candidate, str) or "://" not in candidate:
            raise StoreURLError(
                f"{_redact_text(str(text))!r} is not a store URL; write e.g. "
                "'sqlite:///experiments.db', 'files:///experiments', 'memory://' "
                "or 'postgresql://host/db'"
            )
        if (problem := unfit_text(text)) is not None:
            raise StoreURLError(f"the store URL {problem}; got {_redact_text(text)!r}")
        try:
            parts = urllib.parse.urlsplit(text)
        except ValueError as exc:
            raise StoreURLError(f"{_redact_text(text)!r} is not a valid URL: {exc}") from None
        if "#" in text:
            # Everything after '#' would silently fall away, and with it part of a path
            # or a password: a different store, or a failed login, far from the cause.
            raise StoreURLError(
                f"the {text.partition(':')[0]!r} store URL holds '#', which ends a URL and "
                "would drop what follows; write it as %23 in a path, user name or password"
            )
        scheme = parts.scheme.lower()
        params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        return cls(scheme, parts.netloc, urllib.parse.unquote(parts.path), params, raw=text)

    @property
    def raw(self) -> str:
        """The URL exactly as given, secrets included; pass it on, never print it."""
        return self._raw

    @property
    def file_path(self) -> str:
        """The filesystem path of a file-based store (one leading slash removed)."""
        path = self.netloc + self.path if self.netloc else self.path
        return path.removeprefix("/")

    @property
    def name(self) -> str:
        """Host and path, by which a message names the store."""
        return self.netloc.rpartition("@")[2] + self.path

    @property
    def username(self) -> str | None:
        return urllib.parse.urlsplit(self._raw).username

    @property
    def password(self) -> str | None:
        return urllib.parse.urlsplit(self._raw).password

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password and secret parameters as written and decoded, never to be printed."""
        parts = urllib.parse.urlsplit(self._raw)
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        found = {v for k, v in pairs if k.lower() in SECRET_PARAMS and v}
        found.update(urllib.parse.quote(s, safe="") for s in list(found))
        if parts.password:
            found.update({parts.password, urllib.parse.unquote(parts.password)})
        return tuple(sorted(found, key=len, reverse=True))

    def mask(self, text: str) -> str:
        """``text`` (a driver's or a plugin's message) with this URL's secrets masked."""
        return mask_secrets(text, self.secrets)

    def refuse_credentials(self, backend: str) -> None:
        """Refuse a user name or password, which ``backend`` has no use for.

        A file or memory store does not log in: credentials in its URL can only be a
        mistake, and would end up in paths and messages.

        Raises:
            StoreURLError: the URL has a user part.
        """
        if "@" in self.netloc:
            raise StoreURLError(
                f"{self.redacted}: the {backend} backend takes no user name or password; "
                f"remove the part before '@' (write {self.scheme}:///path)"
            )

    def options(self, backend: str, *allowed: str) -> dict[str, str]:
        """The URL's options, refusing any that ``backend`` does not take."""
        unknown = set(self.params) - set(allowed)
        if unknown:
            takes = f"takes {', '.join(allowed)}" if allowed else "takes none"
            raise StoreURLError(
                f"{self.redacted}: unknown option(s) {', '.join(sorted(unknown))}; "
                f"the {backend} backend {takes}"
            )
        return dict(self.params)

    def seconds(self, name: str, default: float) -> float:
        """The option ``name`` as a number of seconds (0 or more), or ``default``.

        Raises:
            StoreURLError: the option is not such a number.
        """
        text = self.params.get(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0 <= value < math.inf:
            raise StoreURLError(
                f"{self.redacted}: {name} must be a number of seconds, 0 or more, such as "
                f"{default:g}"
            )
        return value

    @property
    def redacted(self) -> str:
        """The URL with any password and secret parameters replaced by ``***``."""
        return _redact_text(self._raw) if self._raw else f"{self.scheme}://{self.path}"

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"StoreURL({self.redacted!r})"


def _redact_text(text: str) -> str:
    """``text`` with the password and secret parameters masked, the rest as written."""
    try:
        urllib.parse.urlsplit(text)
    except ValueError:  # too malformed to tell what is secret: show nothing
        return HIDDEN
    head, separator, rest = text.partition("://")
    if not separator:
        return text if "@" not in text else HIDDEN
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user = userinfo.partition(":")[0]
        authority = f"{user}:{HIDDEN}@{host}" if ":" in userinfo else f"{user}@{host}"
    path_part, question, query = tail.partition("?")
    if question:
        query, hash_mark, fragment = query.partition("#")
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urllib.parse.urlencode(
                [(k, HIDDEN if k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="*"
            )
        query = query + hash_mark + fragment
    return f"{head}://{authority}{slash}{path_part}{question}{query}"


def mask_secrets(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``***``.

    A secret too short to mask wherever it stands (``p`` would blank every ``p`` of
    the message) is masked where a driver writes a value: after ``=``, ``:`` or a quote.
    """
    for secret in secrets:
        if len(secret) >= _WHOLE_SECRET:
            text = text.replace(secret, HIDDEN)
        elif secret:
            pattern = rf"(?<=[=:'\"]){re.escape(secret)}(?=[\s'\"@&;,]|$)"
            text = re.sub(pattern, HIDDEN, text)
    return text
