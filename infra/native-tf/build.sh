#!/usr/bin/env bash
# Builds @tensorflow/tfjs-node against the TensorFlow C API inside a PyPI TensorFlow wheel.
#
# tfjs-node's own install script downloads libtensorflow from storage.googleapis.com, and a
# machine that can reach only the npm registry and PyPI cannot run it. The PyPI wheel of the
# same TensorFlow version contains every TF_* and TFE_* function that the addon calls, exported
# from tensorflow/python/_pywrap_tensorflow_internal.so, so this script builds the addon against
# that library instead. See infra/native-tf/README.md.
#
#   infra/native-tf/build.sh                      build under .stack/native-tf/ and smoke-test it
#   infra/native-tf/build.sh --install-into-repo  also install the package into the repository's
#                                                 node_modules/ and build the addon there
#   infra/native-tf/build.sh --gpu ...            use @tensorflow/tfjs-node-gpu and the CUDA build
#                                                 of the wheel (untested, see README.md)
#
# Safe to run again: finished steps are skipped, and the addon is rebuilt (a few seconds).
set -euo pipefail

# tfjs-node 4.22.0 pins LIBTENSORFLOW_VERSION = '2.9.1' in scripts/deps-constants.js, and its
# addon is compiled against that version's C headers, so the wheel version must match it.
TFJS_NODE_VERSION=4.22.0
TF_VERSION=2.9.1
# node-gyp 10 runs on Node.js 16.14 and later. The scratch npm project below pins it, so rebuilds
# do not depend on whatever version npx would fetch.
NODE_GYP_VERSION=10.3.1
# The wheel's Python ABI does not matter because no Python code is loaded, but pip needs one
# that TensorFlow 2.9.1 publishes wheels for (CPython 3.7 to 3.10).
WHEEL_PYTHON_VERSION=310

install_into_repo=false
gpu=false
for arg in "$@"; do
  case "$arg" in
    --install-into-repo) install_into_repo=true ;;
    --gpu) gpu=true ;;
    -h | --help)
      sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "[native-tf] unknown argument: $arg (expected --install-into-repo, --gpu or --help)" >&2
      exit 2
      ;;
  esac
done

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
stack_dir="$repo_root/.stack/native-tf"

if [ "$gpu" = true ]; then
  # NOTE: the GPU variant has not been built or run on a GPU machine. The `tensorflow` wheel
  # for Linux is the CUDA build and has the same library layout as tensorflow-cpu.
  tfjs_package=@tensorflow/tfjs-node-gpu
  wheel_package=tensorflow
  variant=gpu
else
  tfjs_package=@tensorflow/tfjs-node
  wheel_package=tensorflow-cpu
  variant=cpu
fi
libtf_dir="$stack_dir/libtensorflow-$TF_VERSION-$variant"
node_project_dir="$stack_dir/node-$variant"

log() {
  echo "[native-tf] $*" >&2
}

fail() {
  echo "[native-tf] error: $*" >&2
  exit 1
}

check_tools() {
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    fail "only Linux x86_64 is supported (the wheel platform tag is manylinux2014_x86_64), got $(uname -s)-$(uname -m)"
  fi
  local tool
  for tool in node npm python3 gcc g++ make nm; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing; install it (gcc, g++, make and nm come with build-essential)"
  done
  python3 -m pip --version >/dev/null 2>&1 || fail "python3 -m pip is missing; install pip for python3"
  # node-gyp downloads the Node.js headers from nodejs.org unless --nodedir points at a
  # directory with include/node/node_api.h, which official Node.js tarballs and the Debian and
  # NodeSource packages ship.
  node_dir="$(node -p "require('path').resolve(process.execPath, '..', '..')")"
  [ -f "$node_dir/include/node/node_api.h" ] ||
    fail "Node.js headers not found at $node_dir/include/node/node_api.h; install the headers of Node.js $(node --version)"
}

# Extracts the two libraries and the C headers from the wheel into $libtf_dir, and builds a
# stub library for the Python C API symbols that the wheel's library leaves undefined.
prepare_libtensorflow() {
  if [ -f "$libtf_dir/.complete" ]; then
    log "libtensorflow $TF_VERSION ($wheel_package wheel) already prepared in $libtf_dir"
    return
  fi
  local wheel_dir="$stack_dir/wheel"
  rm -rf "$libtf_dir"
  mkdir -p "$libtf_dir/lib" "$wheel_dir"
  log "downloading $wheel_package==$TF_VERSION from PyPI"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version "$WHEEL_PYTHON_VERSION" \
    -d "$wheel_dir" "$wheel_package==$TF_VERSION"
  local wheel
  wheel="$(find "$wheel_dir" -name "${wheel_package//-/_}-$TF_VERSION-*.whl" | head -n 1)"
  [ -n "$wheel" ] || fail "pip reported success but no $wheel_package $TF_VERSION wheel is in $wheel_dir"

  log "extracting the C API library, libtensorflow_framework and the C headers from $(basename "$wheel")"
  python3 - "$wheel" "$libtf_dir" <<'EOF'
import os, shutil, sys, zipfile

wheel, out = sys.argv[1], sys.argv[2]
libraries = {
    "tensorflow/python/_pywrap_tensorflow_internal.so": "lib/_pywrap_tensorflow_internal.so",
    "tensorflow/libtensorflow_framework.so.2": "lib/libtensorflow_framework.so.2",
}
# The addon includes tensorflow/c/*.h, tensorflow/c/eager/c_api.h and
# tensorflow/core/platform/ctstring_internal.h, which include nothing outside these folders.
header_prefixes = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/")
with zipfile.ZipFile(wheel) as archive:
    names = set(archive.namelist())
    for member, target in libraries.items():
        if member not in names:
            sys.exit(f"{member} is not in {wheel}")
        path = os.path.join(out, target)
        with archive.open(member) as source, open(path, "wb") as dest:
            shutil.copyfileobj(source, dest)
        os.chmod(path, 0o755)
    headers = [n for n in names if n.startswith(header_prefixes) and n.endswith(".h")]
    if not any(n.endswith("tensorflow/c/eager/c_api.h") for n in headers):
        sys.exit(f"tensorflow/c/eager/c_api.h is not in {wheel}")
    for member in headers:
        path = os.path.join(out, "include", member[len("tensorflow/include/"):])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with archive.open(member) as source, open(path, "wb") as dest:
            shutil.copyfileobj(source, dest)
EOF

  # _pywrap_tensorflow_internal.so is a Python extension module: it refers to about 190 Python
  # C API symbols (functions, type objects, exception objects) that the Python interpreter
  # defines. Node.js defines none of them, so the dynamic loader would reject the library. The
  # stub defines each one. The C API entry points never reach the Python bindings, so a call to a
  # stub function is a bug. Such a call prints the function's name and aborts.
  log "building the Python C API stub library"
  local stub_source="$libtf_dir/python_api_stub.c"
  nm -D --undefined-only "$libtf_dir/lib/_pywrap_tensorflow_internal.so" |
    awk '$1 == "U" && $2 ~ /^_?Py/ && $2 !~ /@/ { print $2 }' |
    sort -u |
    awk '
      BEGIN {
        print "/* Generated by infra/native-tf/build.sh from the undefined symbols of _pywrap_tensorflow_internal.so. */"
        print "#include <stdio.h>"
        print "#include <stdlib.h>"
        print "static void python_api_called(const char *name) {"
        print "  fprintf(stderr, \"native-tf: Python C API function %s called outside Python\\n\", name);"
        print "  abort();"
        print "}"
      }
      # Type objects, exception objects and the None, True, False and NotImplemented singletons
      # are data. 512 bytes is more than any of these objects occupies in CPython 3.10.
      /_Type$|^PyExc_|^_Py_[A-Za-z]+Struct$/ { print "__attribute__((visibility(\"default\"), aligned(16))) char " $1 "[512];"; next }
      { print "__attribute__((visibility(\"default\"))) void " $1 "(void) { python_api_called(\"" $1 "\"); }" }
    ' >"$stub_source"
  gcc -shared -fPIC -O1 -Wl,-soname,libtfjs_python_stub.so -o "$libtf_dir/lib/libtfjs_python_stub.so" "$stub_source"

  # The wheel is only needed for the extraction above.
  rm -rf "$wheel_dir"
  touch "$libtf_dir/.complete"
}

# Installs the npm package (without its install script, which would try the download) and
# node-gyp into a scratch npm project under .stack/native-tf/.
install_node_project() {
  mkdir -p "$node_project_dir"
  local installed_version=""
  if [ -f "$node_project_dir/node_modules/$tfjs_package/package.json" ]; then
    installed_version="$(node -p "require('$node_project_dir/node_modules/$tfjs_package/package.json').version")"
  fi
  if [ "$installed_version" = "$TFJS_NODE_VERSION" ] && [ -x "$node_project_dir/node_modules/.bin/node-gyp" ]; then
    log "$tfjs_package@$TFJS_NODE_VERSION and node-gyp already installed in $node_project_dir"
    return
  fi
  log "installing $tfjs_package@$TFJS_NODE_VERSION and node-gyp@$NODE_GYP_VERSION into $node_project_dir"
  printf '{ "name": "native-tf-build", "private": true }\n' >"$node_project_dir/package.json"
  (cd "$node_project_dir" &&
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
      "$tfjs_package@$TFJS_NODE_VERSION" "node-gyp@$NODE_GYP_VERSION" >&2)
}

# Lays out deps/ in an installed tfjs-node package the way its binding.gyp expects and builds
# the addon into lib/napi-v<N>/, where dist/index.js looks it up through node-pre-gyp.
build_addon() {
  local package_dir="$1"
  local lib_dir="$package_dir/deps/lib"
  rm -rf "$package_dir/deps"
  mkdir -p "$lib_dir"
  ln -s "$libtf_dir/include" "$package_dir/deps/include"
  ln -s "$libtf_dir/lib/_pywrap_tensorflow_internal.so" "$lib_dir/_pywrap_tensorflow_internal.so"
  ln -s "$libtf_dir/lib/libtensorflow_framework.so.2" "$lib_dir/libtensorflow_framework.so.2"
  ln -s "$libtf_dir/lib/libtfjs_python_stub.so" "$lib_dir/libtfjs_python_stub.so"
  # binding.gyp links -ltensorflow -ltensorflow_framework. The C API library's soname is
  # _pywrap_tensorflow_internal.so, so the addon records that name and the loader finds it in
  # deps/lib through the addon's RUNPATH ($ORIGIN/../../deps/lib).
  ln -s _pywrap_tensorflow_internal.so "$lib_dir/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$lib_dir/libtensorflow_framework.so"

  # dist/index.js loads lib/napi-v<N>/, where node-pre-gyp picks N as the highest version in
  # package.json's binary.napi_versions that this Node.js supports.
  local napi_version
  napi_version="$(node -p "
    const supported = require('$package_dir/package.json').binary.napi_versions;
    Math.max(...supported.filter((v) => v <= Number(process.versions.napi)))
  ")"
  log "building the addon in $package_dir (N-API $napi_version)"
  # --no-as-needed keeps the stub library as a dependency of the addon although the addon calls
  # none of its symbols, so that the loader has it in scope when it resolves the wheel library.
  # gyp's make generator appends LDFLAGS from the environment to the link command.
  (cd "$package_dir" &&
    LDFLAGS="-Wl,--no-as-needed -L$lib_dir -ltfjs_python_stub" \
      "$node_project_dir/node_modules/.bin/node-gyp" rebuild --nodedir="$node_dir" \
      --module_name=tfjs_binding --module_path="$package_dir/lib/napi-v$napi_version" \
      --napi_build_version="$napi_version" >&2)
  local addon="$package_dir/lib/napi-v$napi_version/tfjs_binding.node"
  [ -f "$addon" ] || fail "node-gyp finished but $addon is missing"

  # Functions resolve lazily, so a TF_* or TFE_* function that the wheel lacks would only fail
  # when first called. Check all of them now.
  local missing
  missing="$(
    comm -23 \
      <(nm -D --undefined-only "$addon" | awk '$2 ~ /^TFE?_/ { sub(/@.*/, "", $2); print $2 }' | sort -u) \
      <(nm -D --defined-only "$libtf_dir/lib/_pywrap_tensorflow_internal.so" "$libtf_dir/lib/libtensorflow_framework.so.2" |
        awk 'NF == 3 { sub(/@.*/, "", $3); print $3 }' | sort -u)
  )"
  [ -z "$missing" ] || fail "the wheel libraries do not define these symbols that the addon calls: $(echo "$missing" | tr '\n' ' ')"
}

# Loads the package, checks that it registers the tensorflow backend and runs a matMul.
smoke_test() {
  local package_dir="$1"
  log "smoke test: require('$package_dir')"
  TF_CPP_MIN_LOG_LEVEL=1 node -e "
    const tfn = require('$package_dir');
    const backend = tfn.getBackend();
    if (backend !== 'tensorflow') throw new Error('expected the tensorflow backend, got ' + backend);
    const product = tfn.matMul(tfn.tensor2d([[1, 2], [3, 4]]), tfn.tensor2d([[5, 6], [7, 8]])).arraySync();
    if (JSON.stringify(product) !== '[[19,22],[43,50]]') throw new Error('matMul returned ' + JSON.stringify(product));
    console.error('[native-tf] ok: tfjs ' + tfn.version.tfjs + ', TensorFlow ' + tfn.backend().binding.TF_Version + ', backend ' + backend);
  "
}

check_tools
prepare_libtensorflow
install_node_project
build_addon "$node_project_dir/node_modules/$tfjs_package"
smoke_test "$node_project_dir/node_modules/$tfjs_package"

if [ "$install_into_repo" = true ]; then
  # --no-save leaves package.json and package-lock.json alone. npm then treats the package as
  # extraneous, so the next `npm ci` or `npm install` in the repository removes it again.
  log "installing $tfjs_package@$TFJS_NODE_VERSION into $repo_root/node_modules (no package.json change)"
  gpu_package_dir="$repo_root/node_modules/@tensorflow/tfjs-node-gpu"
  gpu_package_existed=false
  [ -e "$gpu_package_dir" ] && gpu_package_existed=true
  (cd "$repo_root" &&
    npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error "$tfjs_package@$TFJS_NODE_VERSION" >&2)
  # package.json lists @tensorflow/tfjs-node-gpu as an optional dependency. `npm ci` drops it
  # when its install script fails to download libtensorflow, but --ignore-scripts above installs
  # it without an addon. loadTensorFlow() in ml/backend.ts tries it first, and its failed import
  # has already registered its kernels for the "tensorflow" backend, so every kernel of the CPU
  # package is then reported as registered twice. Removing it restores the state `npm ci` leaves.
  if [ "$gpu" = false ] && [ "$gpu_package_existed" = false ] && [ -d "$gpu_package_dir" ]; then
    log "removing $gpu_package_dir, which --ignore-scripts installed without its addon"
    rm -rf "$gpu_package_dir"
  fi
  repo_package_dir="$repo_root/node_modules/$tfjs_package"
  if [ -d "$repo_package_dir/node_modules/@tensorflow/tfjs" ]; then
    # ml/backend.ts rejects a tfjs-node that registers into a second copy of @tensorflow/tfjs.
    fail "npm installed a second @tensorflow/tfjs under $repo_package_dir; the repository's @tensorflow/tfjs must be $TFJS_NODE_VERSION"
  fi
  build_addon "$repo_package_dir"
  smoke_test "$repo_package_dir"
fi
log "done"
