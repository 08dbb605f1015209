#!/usr/bin/env bash
# Builds the base image of the gateway's OCI image without a registry or a Docker daemon: a Java runtime
# made with jlink from the build JDK, the shared libraries it and the gateway's native libraries (Netty io_uring and epoll,
# llama.cpp, ONNX Runtime, tokenizers) load, taken from this machine, and a minimal /etc. Written as an image
# tarball in the `docker save` format, which Jib reads as a `tar://` base image (gateway-server/pom.xml).
#
#   base-image.sh JAVA_HOME MODULES APP_JAR OUT_DIR [BASE]
#
# JAVA_HOME  the JDK whose jmods jlink links (the build's own JDK)
# MODULES    the Java modules to link, comma-separated
# APP_JAR    the shaded gateway jar: its Linux x86-64 native libraries are scanned for what they need
# OUT_DIR    where to build; the image is OUT_DIR/base.tar
# BASE       the base image Jib is given (image.base): when it is not a tar:// file, none is built here
#
# Needs: jlink, ldd, tar and sha256sum (a Debian JDK and coreutils have them). Reproducible: the same inputs
# give the same layer (sorted names, mtime 0, owner 0).
set -euo pipefail
java_home=$1 modules=$2 app_jar=$3 out=$(realpath -m "$4") base=${5:-tar://}

rm -rf "$out"
# the directory the state file goes to (/app/state; Jib adds it to the image writable by any user)
mkdir -p "$out/extra/state"
if [[ $base != tar://* ]]; then
  echo "base-image: the image is built on $base; no base built here"
  exit 0
fi
if [[ ! -f $java_home/jmods/java.base.jmod ]]; then
  echo "base-image: $java_home has no jmods for jlink (Debian: openjdk-17-jdk-headless has them). Build with" \
    "-Dimage.base=eclipse-temurin:17-jre (a registry needed) or -Dimage.skip=true (no image)" >&2
  exit 1
fi
root="$out/rootfs"
mkdir -p "$root" "$out/natives"

# 1. the Java runtime, in the place eclipse-temurin images use (so the two bases behave alike)
# The GUI half of java.desktop (AWT, fonts, sound, images) is left out: the gateway needs java.desktop
# only for java.beans (Jackson, Logback), and its natives would pull in X11 and freetype.
"$java_home/bin/jlink" --module-path "$java_home/jmods" --add-modules "$modules" \
  --strip-debug --no-header-files --no-man-pages --compress=2 \
  --exclude-files='regex:.*/lib/(libawt_xawt|libsplashscreen|libjawt|libjsound|libfontmanager|liblcms|libjavajpeg|libmlib_image)\.so' \
  --output "$root/opt/java/openjdk"
# the host's CA bundle when it has one (Debian keeps it current with ca-certificates), else the JDK's own
if [[ -s /etc/ssl/certs/java/cacerts ]]; then
  cp -L /etc/ssl/certs/java/cacerts "$root/opt/java/openjdk/lib/security/cacerts"
fi

# 2. the gateway's own native libraries for Linux x86-64 (unpacked only to be scanned)
mapfile -t natives < <("$java_home/bin/jar" tf "$app_jar" \
  | grep -E '\.so(\.[0-9]+)*$' | grep -E '(linux|Linux)[-_/]?(x86[-_]64|x64|amd64)|native/lib.*x86_64|_x86_64\.so$')
(cd "$out/natives" && "$java_home/bin/jar" xf "$app_jar" "${natives[@]}")

# 3. every shared library those load, copied from this machine to the same path, with the dynamic loader
declare -A seen=()
copy() {
  local src=$1
  [[ $src == "$out"/* ]] && return 0 # the runtime's own libraries (libjli.so, libjvm.so): already in place
  [[ -n ${seen[$src]:-} ]] && return 0
  seen[$src]=1
  mkdir -p "$root$(dirname "$src")"
  cp -L "$src" "$root$src"
}
while IFS= read -r elf; do
  while IFS= read -r lib; do
    copy "$lib"
  done < <(ldd "$elf" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
done < <(find "$root/opt/java/openjdk" "$out/natives" -type f \( -name '*.so' -o -name '*.so.*' -o -path '*/bin/*' \))
[[ -n ${seen[/lib64/ld-linux-x86-64.so.2]:-} ]] || { echo "base-image: no dynamic loader found by ldd" >&2; exit 1; }

# 4. a minimal /etc and a /tmp: the non-root user the image runs as (65532, as in distroless images), name
# resolution from /etc/hosts then DNS (Docker provides both files), a world-writable /tmp (Netty, llama.cpp and
# ONNX Runtime unpack their native libraries there), and /proc for a container runtime (or a test's chroot) to
# mount: the java launcher finds its own libraries through /proc/self/exe
mkdir -p "$root/etc" "$root/tmp" "$root/proc"
printf 'root:x:0:0:root:/root:/sbin/nologin\ngateway:x:65532:65532:gateway:/app:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\ngateway:x:65532:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp"
# the C.UTF-8 locale (LANG below): without it the JVM writes its logs in ASCII, '?' for every other character
if [[ -d /usr/lib/locale/C.utf8 ]]; then
  mkdir -p "$root/usr/lib/locale"
  cp -R /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
fi

# 5. the image tarball: one layer, its config, and the manifest `docker save` writes
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out/layer.tar" .
diff_id=$(sha256sum "$out/layer.tar" | cut -d' ' -f1)
cat >"$out/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/opt/java/openjdk/bin:/usr/local/bin:/usr/bin:/bin","JAVA_HOME=/opt/java/openjdk","LANG=C.UTF-8"]},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created_by":"gateway-server/src/image/base-image.sh: jlink runtime and shared libraries"}]}
JSON
printf '[{"Config":"config.json","RepoTags":["llm-gateway-base:local"],"Layers":["layer.tar"]}]\n' >"$out/manifest.json"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$out" -cf "$out/base.tar" manifest.json config.json layer.tar
rm -rf "$out/natives" "$out/layer.tar"
echo "base-image: $out/base.tar ($(du -h "$out/base.tar" | cut -f1); $(find "$root" -name '*.so*' -path '*/lib/x86_64-linux-gnu/*' | wc -l) system libraries)"
