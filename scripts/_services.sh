# Sourced by scripts/test: installs the services the tests start themselves (redis-server, for the
# Redis session store), with apt-get on Debian/Ubuntu, when missing and we are root. Otherwise it
# says what to install and leaves the tests to fail with the same advice.
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing redis-server (the Redis session store's tests start one on 127.0.0.1)..."
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    else
        echo "redis-server is missing: install it (e.g. 'sudo apt-get install redis-server') and rerun ./scripts/test." >&2
    fi
fi
