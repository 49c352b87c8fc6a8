"""SourcePolicy: which sources a client may ask for (files under allowed roots only, etc.)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from serve_app.sources.source_spec import SourceError, SourceKind, SourceSpec


class SourcePolicy:
    """Decides whether a parsed source may be opened on a client's behalf.

    Files must lie under one of ``file_roots`` after every symlink is resolved, so neither
    ``..`` nor a link can escape. URLs need an allowed scheme and, when ``hosts`` is
    non-empty, an allowed host. Webcams only when enabled. The demo clips are always fine.
    """

    def __init__(
        self,
        file_roots: list[str],
        url_schemes: list[str],
        url_hosts: list[str],
        allow_webcam: bool,
    ) -> None:
        self.file_roots = [Path(root).expanduser().resolve() for root in file_roots]
        self.url_schemes = {scheme.lower() for scheme in url_schemes}
        self.url_hosts = {host.lower() for host in url_hosts}
        self.allow_webcam = allow_webcam

    def check(self, spec: SourceSpec) -> None:
        if spec.kind is SourceKind.DEMO:
            return
        if spec.kind is SourceKind.FILE:
            path = Path(spec.location).resolve()
            if not any(path.is_relative_to(root) for root in self.file_roots):
                roots = ", ".join(str(r) for r in self.file_roots) or "none configured"
                raise SourceError(
                    f"source file {spec.location!r} is outside the allowed roots ({roots}); "
                    "see ALLOWED_FILE_ROOTS"
                )
            return
        if spec.kind is SourceKind.WEBCAM:
            if not self.allow_webcam:
                raise SourceError("webcam sources are disabled; see ALLOW_WEBCAM")
            return
        parsed = urlparse(spec.location)
        if parsed.scheme.lower() not in self.url_schemes:
            raise SourceError(
                f"URL scheme {parsed.scheme!r} is not allowed; allowed: "
                f"{', '.join(sorted(self.url_schemes))} (ALLOWED_URL_SCHEMES)"
            )
        host = (parsed.hostname or "").lower()
        if self.url_hosts and host not in self.url_hosts:
            raise SourceError(f"host {host!r} is not allowed (ALLOWED_URL_HOSTS)")
