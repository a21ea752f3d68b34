"""The API functions' CORS configuration, from the AllowedOrigins parameter (ALLOWED_ORIGINS)."""

from __future__ import annotations

from amends.api.cors import allowed_origins, cors_config, vary_on_origin


def test_no_origins_means_no_cors_at_all(monkeypatch) -> None:
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    assert cors_config() is None and cors_config("") is None and cors_config(" , ") is None
    result = {"statusCode": 200, "multiValueHeaders": {}}
    assert vary_on_origin(result, None) == {"statusCode": 200, "multiValueHeaders": {}}


def test_every_configured_origin_is_allowed_and_no_other(monkeypatch) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example,https://b.example")
    assert allowed_origins() == ["https://a.example", "https://b.example"]
    config = cors_config()
    assert config is not None
    assert config.allowed_origin("https://b.example") == "https://b.example"
    assert config.allowed_origin("https://c.example") is None
    headers = config.to_dict("https://a.example")
    assert {"Idempotency-Key", "X-Access-Token", "Authorization", "Content-Type"} <= set(
        headers["Access-Control-Allow-Headers"].split(","))
    assert set(headers["Access-Control-Expose-Headers"].split(",")) == {"Location", "Retry-After", "WWW-Authenticate"}
    assert "Access-Control-Allow-Credentials" not in headers  # tokens travel in headers, never cookies


def test_answers_vary_on_origin_when_cors_is_on() -> None:
    config = cors_config("https://a.example")
    assert vary_on_origin({"multiValueHeaders": {}}, config)["multiValueHeaders"] == {"Vary": ["Origin"]}
    kept = vary_on_origin({"multiValueHeaders": {"vary": ["Accept-Encoding"]}}, config)
    assert kept["multiValueHeaders"] == {"vary": ["Accept-Encoding", "Origin"]}
    once = vary_on_origin({"multiValueHeaders": {"Vary": ["Origin"]}}, config)
    assert once["multiValueHeaders"] == {"Vary": ["Origin"]}
