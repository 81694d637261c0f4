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
