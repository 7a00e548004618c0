# Sourced by scripts/*: puts a pinned uv in the array UV, installing it with pip when missing.
UV_VERSION="0.13.8"
if command -v uv >/dev/null 2>&1 && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
    UV=(uv)
else
    if ! python3 -m uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
        python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    fi
    UV=(python3 -m uv)
fi
