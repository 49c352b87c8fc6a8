"""AccessPolicy: writes need the token; a generated token spares loopback clients only."""

from serve_app.http.access import AccessPolicy


def test_writes_need_the_token() -> None:
    access = AccessPolicy("s3cret", token_was_generated=False, protect_reads=False)
    assert access.check(False, "10.0.0.5", None) is None
    assert access.check(True, "10.0.0.5", None).status_code == 401
    assert access.check(True, "10.0.0.5", "Bearer nope").status_code == 403
    assert access.check(True, "10.0.0.5", "Bearer s3cret") is None
    assert access.check(True, "127.0.0.1", None).status_code == 401  # a set token binds all


def test_a_generated_token_spares_loopback_clients_only() -> None:
    access = AccessPolicy("generated", token_was_generated=True, protect_reads=True)
    assert access.check(True, "127.0.0.1", None) is None
    assert access.check(True, "::1", None) is None
    assert access.check(False, "192.0.2.7", None).status_code == 401
    assert access.check(False, "192.0.2.7", "Bearer generated") is None
