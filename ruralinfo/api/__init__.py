"""The JSON API at ``/api/v1``: bearer tokens, broadcasts, an OpenAPI document."""
