# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: the interpreter, its virtual environment, and the
# collection path ansible needs. Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: interpreter '$PYTHON' not found; set PYTHON to an installed python3 (3.11 or later)." >&2
    exit 2
fi
if ! PY_VERSION=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
    echo "error: interpreter '$PYTHON' does not run; set PYTHON to a working python3 (3.11 or later)." >&2
    exit 2
fi
if [ "$PYTHON" = python3 ]; then
    VENV="$ROOT/.venv"
else
    VENV="$ROOT/.venv-$PY_VERSION"
fi

# Create a virtual environment once, and install requirement files into it again only when they
# change.
prepare_venv() {
    local venv=$1
    shift
    if [ ! -x "$venv/bin/python" ]; then
        echo "== creating $venv with $PYTHON ($PY_VERSION)"
        "$PYTHON" -m venv "$venv"
    fi
    local stamp="$venv/.requirements.sha256" wanted file
    wanted=$(cat "$@" | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "== installing requirements into $venv"
        local arguments=()
        for file in "$@"; do
            arguments+=(-r "$file")
        done
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${arguments[@]}"
        echo "$wanted" > "$stamp"
    fi
}

ensure_venv() {
    prepare_venv "$VENV" "$ROOT/requirements.txt" "$ROOT/tests/requirements.txt"
    export PATH="$VENV/bin:$PATH"
}

# A second environment with the lower bound of every runtime dependency (requirements.txt with >=
# read as ==), for the sandbox conformance tests: the sandbox must satisfy the oldest msal,
# azure-identity and azure-keyvault-secrets the collection supports as well as the newest. The
# sandbox and pytest come at the versions tests/requirements.txt allows.
FLOOR_VENV="$VENV-floor"
ensure_floor_venv() {
    mkdir -p "$FLOOR_VENV"
    local pins="$FLOOR_VENV/lower-bounds.txt"
    {
        grep -v '^#' "$ROOT/requirements.txt" | sed 's/>=/==/'
        grep -E '^(aiohttp|cryptography|pytest|pyyaml)' "$ROOT/tests/requirements.txt"
    } > "$pins"
    prepare_venv "$FLOOR_VENV" "$pins"
}

# ansible looks collections up by namespace/name: a copy of the tracked files under
# ansible_collections/partnercenter/secure_app, outside this repository (inside it, ansible-test
# would ask this repository's git which files exist, and the copy is ignored there).
COLLECTION_PARENT="${TMPDIR:-/tmp}/partnercenter.secure_app-$(echo "$ROOT" | sha256sum | cut -c1-12)"
COLLECTION_DIR="$COLLECTION_PARENT/ansible_collections/partnercenter/secure_app"
sync_collection() {
    rm -rf "$COLLECTION_DIR"
    mkdir -p "$COLLECTION_DIR"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
        | tar --null -T - -cf -) | tar -xf - -C "$COLLECTION_DIR"
    export ANSIBLE_COLLECTIONS_PATH="$COLLECTION_PARENT"
}

# ansible-test bootstraps pip in the environments it creates with a script it downloads
# (unreachable here). Offline, a stand-in runs ensurepip and then pip with the same
# arguments; ansible-test strips the environment, so the CA bundle is passed explicitly.
offline_get_pip() {
    local pip_version cache target version
    pip_version=$("$VENV/bin/python" - <<'PY'
import importlib.util, os, re
location = importlib.util.find_spec("ansible_test").submodule_search_locations[0]
source = open(os.path.join(location, "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
    cache="$HOME/.ansible/test/cache"
    mkdir -p "$cache"
    for version in $pip_version; do
        target="$cache/get_pip_${version//./_}.py"
        [ -f "$target" ] && continue
        cat > "$target" <<PY
"""Offline stand-in for get-pip.py (written by partnercenter.secure_app's scripts/lib.sh)."""
import os, subprocess, sys
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
cert = [a for a in ("--cert", "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}") if os.path.exists("${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}")]
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + cert + args))
PY
    done
}
