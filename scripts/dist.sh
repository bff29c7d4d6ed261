#!/usr/bin/env bash
# Builds the portable svcctl (x86_64 Linux, glibc 2.17 and newer: CentOS 7 on) and its tarball,
# .rpm and .deb under target/dist/, then checks what it built and fails loudly on the first
# check that does not hold. Usage: bash scripts/dist.sh (from anywhere in the checkout).
#
# DIST_PROFILE names the cargo profile: `release` (the default) is what ships (fat LTO, one
# codegen unit); CI sets `dist-check` (Cargo.toml: the same but without fat LTO), which builds
# minutes faster on two cores and passes the same checks; its packages are for checking only.
#
# A shell script rather than a `cargo xtask`: every step runs an outside tool (cargo-zigbuild,
# rpmbuild, dpkg-deb, rpm, man, objdump), and a script keeps the crate a single package, so
# `cargo test` and Cargo.lock stay as they are.
#
# Tools come only from package registries, into target/dist-tools/ (a clean checkout installs
# them; later runs reuse them): zig and cargo-zigbuild from PyPI into a virtualenv. System tools
# it needs: python3, rpm, rpmbuild, rpm2cpio, cpio, dpkg-deb, man, objdump (.ci/run installs the
# missing ones). Both packages are built from the staged files by the distributions' own tools:
# the rpm by rpmbuild from a spec written here, the deb by dpkg-deb from a control file written
# here. Not cargo-generate-rpm (its 0.21 cannot package an empty directory: `dir = true` fails
# with "No such file or directory") nor cargo-deb (it packages files, not the empty
# /var/log/svcctl, so its .deb had to be unpacked and rebuilt by dpkg-deb anyway); either costs
# minutes of compiling from crates.io in every fresh CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The packages' directories must be 0755 whatever the caller's umask.
umask 022

TRIPLE=x86_64-unknown-linux-gnu
GLIBC=2.17
ZIGLANG=0.17.1
ZIGBUILD=0.24.1
PROFILE=${DIST_PROFILE:-release}

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# The artifacts go under the checkout's target/dist/, wherever CARGO_TARGET_DIR puts the build.
DIST=$ROOT/target/dist
STAGE=$DIST/stage
TOOLS=$ROOT/target/dist-tools
TARBALL=$DIST/svcctl-$VERSION-x86_64-linux.tar.gz
RPM=$DIST/svcctl-$VERSION-1.x86_64.rpm
DEB=$DIST/svcctl_${VERSION}_amd64.deb

PASSED=0
fail() {
    echo "dist: FAILED: $*" >&2
    exit 1
}
pass() {
    PASSED=$((PASSED + 1))
    echo "dist: ok: $*"
}
step() { echo "dist: == $* ($(date +%T))"; }

# ---------------------------------------------------------------------------------------------
step "tools"
for tool in python3 rpm rpmbuild rpm2cpio cpio dpkg-deb man objdump gzip tar; do
    command -v "$tool" >/dev/null || fail "$tool is missing; install it (Debian: see .ci/run)"
done
if [ ! -x "$TOOLS/venv/bin/cargo-zigbuild" ]; then
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install --quiet "ziglang==$ZIGLANG" "cargo-zigbuild==$ZIGBUILD"
fi
# cargo-zigbuild runs zig as `python3 -m ziglang` from the virtualenv's python3.
export PATH="$TOOLS/venv/bin:$TOOLS/bin:$PATH"


# ---------------------------------------------------------------------------------------------
step "build: cargo zigbuild --profile $PROFILE --target $TRIPLE.$GLIBC"
if [ "$PROFILE" != release ]; then
    echo "dist: profile $PROFILE, not the shipped release profile: these packages are for checking"
fi
cargo zigbuild --profile "$PROFILE" --locked --target "$TRIPLE.$GLIBC"
BUILT=$TARGET_DIR/$TRIPLE/$PROFILE/svcctl
[ -x "$BUILT" ] || fail "the build left no binary at $BUILT"

# ---------------------------------------------------------------------------------------------
step "stage: the binary, man pages and completions it generates, docs"
rm -rf "$DIST"
mkdir -p "$STAGE/man" "$STAGE/complete"
cp "$BUILT" "$STAGE/svcctl"
BIN=$STAGE/svcctl
"$BIN" --generate man --out-dir "$STAGE/man"
gzip -9n "$STAGE"/man/*.8
for shell in bash zsh fish; do
    "$BIN" --generate "complete-$shell" --out-dir "$STAGE/complete"
done
cp README.md LICENSE cinder.conf.example "$STAGE/"

# The man pages are whatever the command tree gives (one per command), so a new subcommand
# needs no edit here; every check below then wants exactly these, in every package.
PAGES=()
for page in "$STAGE"/man/*.8.gz; do
    page=${page##*/}
    PAGES+=("${page%.8.gz}")
done
[[ " ${PAGES[*]} " == *" svcctl "* && ${#PAGES[@]} -ge 2 ]] ||
    fail "svcctl --generate man gave no svcctl.8 and subcommand pages: ${PAGES[*]}"
echo "dist: ${#PAGES[@]} man pages: ${PAGES[*]}"

# What both packages say of themselves.
SUMMARY="Clean up stale OpenStack Cinder services, safely"
DESCRIPTION="svcctl reads the cinder.conf Cinder reads and lists, soft-deletes and cleans up
stale cinder-volume, cinder-scheduler and cinder-backup services the way Cinder
does, refusing services that are still up or in use."

# The rpm's spec: the staged files, each distribution's paths as in the deb (deb_root).
rpm_spec() {
    local page
    cat <<EOF
# Nothing to strip, compress or debug: the files are staged as they ship.
%define __os_install_post %{nil}
%define debug_package %{nil}
%define _build_id_links none
# CentOS 7's rpm 4.11 reads gzip payloads and sha256 file digests, not zstd.
%define _binary_payload w9.gzdio
%define _binary_filedigest_algorithm 8
Name: svcctl
Version: $VERSION
Release: 1
Summary: $SUMMARY
License: Apache-2.0

%description
$DESCRIPTION

%install
install -D -m 0755 $STAGE/svcctl %{buildroot}/usr/bin/svcctl
install -d -m 0755 %{buildroot}/usr/share/man/man8
install -m 0644 $STAGE/man/*.8.gz %{buildroot}/usr/share/man/man8/
install -D -m 0644 $STAGE/complete/svcctl.bash %{buildroot}/usr/share/bash-completion/completions/svcctl
install -D -m 0644 $STAGE/complete/_svcctl %{buildroot}/usr/share/zsh/site-functions/_svcctl
install -D -m 0644 $STAGE/complete/svcctl.fish %{buildroot}/usr/share/fish/vendor_completions.d/svcctl.fish
install -D -m 0644 $ROOT/LICENSE %{buildroot}/usr/share/licenses/svcctl/LICENSE
install -d -m 0750 %{buildroot}/var/log/svcctl

%files
%defattr(-,root,root)
/usr/bin/svcctl
EOF
    for page in "${PAGES[@]}"; do
        echo "%doc /usr/share/man/man8/$page.8.gz"
    done
    cat <<EOF
/usr/share/bash-completion/completions/svcctl
/usr/share/zsh/site-functions/_svcctl
/usr/share/fish/vendor_completions.d/svcctl.fish
%license /usr/share/licenses/svcctl/LICENSE
%dir %attr(0750,root,root) /var/log/svcctl
EOF
}

# The deb's tree under $1: the staged files at Debian's paths (zsh's vendor-completions, the
# licence as a DEP-5 copyright file), the audit log's directory root's and 0750, and DEBIAN/.
deb_root() {
    local root=$1
    install -D -m 0755 "$STAGE/svcctl" "$root/usr/bin/svcctl"
    install -d -m 0755 "$root/usr/share/man/man8"
    install -m 0644 "$STAGE"/man/*.8.gz "$root/usr/share/man/man8/"
    install -D -m 0644 "$STAGE/complete/svcctl.bash" "$root/usr/share/bash-completion/completions/svcctl"
    install -D -m 0644 "$STAGE/complete/_svcctl" "$root/usr/share/zsh/vendor-completions/_svcctl"
    install -D -m 0644 "$STAGE/complete/svcctl.fish" "$root/usr/share/fish/vendor_completions.d/svcctl.fish"
    install -d -m 0755 "$root/usr/share/doc/svcctl"
    {
        printf '%s\n' "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
            "Upstream-Name: svcctl" "Copyright: svcctl developers" "License: Apache-2.0"
        cat LICENSE
    } >"$root/usr/share/doc/svcctl/copyright"
    chmod 0644 "$root/usr/share/doc/svcctl/copyright"
    install -d -m 0750 "$root/var/log/svcctl"
    install -d -m 0755 "$root/DEBIAN"
    (cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
    # glibc 2.17 is the newest symbol version the binary may use ("check the binary" holds it).
    cat >"$root/DEBIAN/control" <<EOF
Package: svcctl
Version: $VERSION
Architecture: amd64
Section: admin
Priority: optional
Maintainer: svcctl developers
Installed-Size: $(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= $GLIBC)
Description: $SUMMARY
$(sed 's/^/ /' <<<"$DESCRIPTION")
EOF
}

# ---------------------------------------------------------------------------------------------
step "package: tarball, rpm, deb"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    --transform "s,^stage,svcctl-$VERSION-x86_64-linux," -C "$DIST" -cf - stage | gzip -9n >"$TARBALL"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rpm_spec >"$WORK/svcctl.spec"
rpmbuild --quiet -bb --target x86_64-linux --define "_topdir $WORK/rpmbuild" "$WORK/svcctl.spec"
mv "$WORK/rpmbuild/RPMS/x86_64/svcctl-$VERSION-1.x86_64.rpm" "$RPM"
deb_root "$WORK/deb-root"
dpkg-deb --root-owner-group -Zxz --build "$WORK/deb-root" "$DEB" >/dev/null

# ---------------------------------------------------------------------------------------------
step "check the binary"
objdump -f "$BIN" | grep -q 'file format elf64-x86-64' || fail "$BIN is not an x86_64 ELF binary"
NEWEST=$(objdump -T "$BIN" | grep -o 'GLIBC_[0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n1)
[ -n "$NEWEST" ] || fail "objdump -T found no GLIBC symbol version in $BIN"
[ "$(printf '%s\n%s\n' "$NEWEST" "$GLIBC" | sort -V | tail -n1)" = "$GLIBC" ] ||
    fail "$BIN needs GLIBC_$NEWEST, newer than $GLIBC: it would not start on CentOS 7"
pass "newest glibc symbol version is GLIBC_$NEWEST (at most $GLIBC)"
! objdump -h "$BIN" | grep -qw '\.symtab' || fail "$BIN still has its symbol table: not stripped"
pass "binary is stripped"
# Test seams exist only with the test-seams cargo feature, never in what ships.
! grep -qa 'SVCCTL_TEST' "$BIN" || fail "$BIN contains a test seam (SVCCTL_TEST...): built with the test-seams feature?"
pass "no test seam in the binary"
SIZE=$(stat -c %s "$BIN")
echo "dist: binary size: $SIZE bytes ($(awk "BEGIN { printf \"%.1f\", $SIZE / 1048576 }") MiB)"

# ---------------------------------------------------------------------------------------------
# Runs an unpacked binary $1 the way a newcomer would, in an empty directory with a cleared
# environment: --version, then the demo database and `service list` on it.
run_demo() {
    local bin=$1 what=$2 dir
    cmp -s "$bin" "$BIN" || fail "$what: its svcctl differs from the one built"
    [ "$(env -i "$bin" --version)" = "svcctl $VERSION" ] || fail "$what: svcctl --version is not 'svcctl $VERSION'"
    dir=$(mktemp -d -p "$WORK")
    cp cinder.conf.example "$dir/"
    (cd "$dir" && env -i "$bin" --config-file cinder.conf.example demo >demo.out 2>demo.err) ||
        fail "$what: svcctl demo failed: $(cat "$dir/demo.err")"
    (cd "$dir" && env -i "$bin" --config-file cinder.conf.example service list -f value -c host \
        >list.out 2>list.err) || fail "$what: svcctl service list failed: $(cat "$dir/list.err")"
    grep -qx node01 "$dir/list.out" && grep -qx node02 "$dir/list.out" ||
        fail "$what: service list on the demo database does not show node01 and node02: $(cat "$dir/list.out")"
    pass "$what: svcctl --version, demo and service list run"
}

# Checks man page $1 (gzipped roff) renders without a warning and has the sections asked for.
check_man() {
    local page=$1 what=$2 out
    out=$(MANWIDTH=100 man --warnings -l "$page" 2>"$WORK/man.err" | col -b) ||
        fail "$what: man -l $(basename "$page") failed: $(cat "$WORK/man.err")"
    [ ! -s "$WORK/man.err" ] || fail "$what: man -l $(basename "$page") warns: $(cat "$WORK/man.err")"
    for section in NAME SYNOPSIS OPTIONS "EXIT STATUS" FILES "SEE ALSO"; do
        grep -qx "$section" <<<"$out" || fail "$what: $(basename "$page") has no $section section"
    done
}

# Checks an unpacked package or tarball under $1: the binary runs, the pages render, the
# completions load. $2 names it; $3 is where the bash completion is, $4 zsh's, $5 fish's.
check_unpacked() {
    local root=$1 what=$2 bash=$1/$3 zsh=$1/$4 fish=$1/$5 mandir=$6 page
    run_demo "$root/$7" "$what"
    for page in "${PAGES[@]}"; do
        check_man "$root/$mandir/$page.8.gz" "$what"
    done
    pass "$what: ${#PAGES[@]} man pages render with NAME, SYNOPSIS, OPTIONS, EXIT STATUS, FILES, SEE ALSO"
    bash -c 'source "$1" && complete -p svcctl' _ "$bash" >/dev/null ||
        fail "$what: sourcing $3 does not register a completion for svcctl"
    head -n1 "$zsh" | grep -qx '#compdef svcctl' || fail "$what: $4 is no zsh completion for svcctl"
    grep -q '^complete -c svcctl' "$fish" || fail "$what: $5 is no fish completion for svcctl"
    if command -v zsh >/dev/null; then zsh -n "$zsh" || fail "$what: $4 is not valid zsh"; fi
    if command -v fish >/dev/null; then fish -n "$fish" || fail "$what: $5 is not valid fish"; fi
    pass "$what: completions for bash, zsh and fish load"
}

# The list each package must hold exactly, as "mode owner path": no more, no less.
package_files() {
    local zsh_dir=$1 licence=$2 page
    echo "-rwxr-xr-x root:root /usr/bin/svcctl"
    for page in "${PAGES[@]}"; do
        echo "-rw-r--r-- root:root /usr/share/man/man8/$page.8.gz"
    done
    echo "-rw-r--r-- root:root /usr/share/bash-completion/completions/svcctl"
    echo "-rw-r--r-- root:root $zsh_dir/_svcctl"
    echo "-rw-r--r-- root:root /usr/share/fish/vendor_completions.d/svcctl.fish"
    echo "-rw-r--r-- root:root $licence"
    echo "drwxr-x--- root:root /var/log/svcctl"
}
same_list() {
    local what=$1 expected=$2 actual=$3
    diff -u <(sort <<<"$expected") <(sort <<<"$actual") >"$WORK/list.diff" ||
        fail "$what does not hold exactly the expected files (- expected, + found):
$(cat "$WORK/list.diff")"
}

# ---------------------------------------------------------------------------------------------
step "check the rpm"
RPM_EXPECTED=$(package_files /usr/share/zsh/site-functions /usr/share/licenses/svcctl/LICENSE)
same_list "$RPM" "$RPM_EXPECTED" "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$RPM")"
same_list "rpm -qlp $RPM" "$(cut -d' ' -f3 <<<"$RPM_EXPECTED")" "$(rpm -qlp "$RPM")"
pass "rpm -qlp lists exactly the binary, ${#PAGES[@]} man pages, 3 completions, the licence, /var/log/svcctl (0750)"
[ "$(rpm -qp --qf '%{PAYLOADCOMPRESSOR}' "$RPM")" = gzip ] || fail "$RPM payload is not gzip: CentOS 7 cannot read it"
REQUIRES=$(rpm -qpR "$RPM")
grep -q 'libc.so.6(GLIBC_' <<<"$REQUIRES" || fail "$RPM requires no glibc version: $REQUIRES"
REQUIRED=$(grep -o 'GLIBC_[0-9.]*' <<<"$REQUIRES" | sed 's/^GLIBC_//' | sort -uV | tail -n1)
[ "$(printf '%s\n%s\n' "$REQUIRED" "$GLIBC" | sort -V | tail -n1)" = "$GLIBC" ] ||
    fail "$RPM requires GLIBC_$REQUIRED, newer than $GLIBC"
pass "rpm payload is gzip and it requires at most GLIBC_$GLIBC"
mkdir "$WORK/rpm"
(cd "$WORK/rpm" && rpm2cpio "$RPM" | cpio --quiet -idm)
check_unpacked "$WORK/rpm" "rpm" usr/share/bash-completion/completions/svcctl \
    usr/share/zsh/site-functions/_svcctl usr/share/fish/vendor_completions.d/svcctl.fish \
    usr/share/man/man8 usr/bin/svcctl

# ---------------------------------------------------------------------------------------------
step "check the deb"
DEB_EXPECTED=$(package_files /usr/share/zsh/vendor-completions /usr/share/doc/svcctl/copyright)
# dpkg-deb -c also lists every parent directory; those are checked apart, below.
DEB_LIST=$(dpkg-deb -c "$DEB" | awk '{ sub("^\\.", "", $6); sub("/$", "", $6); sub("/", ":", $2); print $1, $2, $6 }')
same_list "dpkg-deb -c $DEB" "$DEB_EXPECTED" "$(grep -v '^d' <<<"$DEB_LIST"; grep ' /var/log/svcctl$' <<<"$DEB_LIST")"
while read -r mode owner dir; do
    [ -z "$dir" ] || [ "$dir" = /var/log/svcctl ] || grep -q " $dir/" <<<"$DEB_EXPECTED" ||
        fail "$DEB holds a directory no packaged file is in: $dir"
    [ "$dir" = /var/log/svcctl ] || [ "$mode $owner" = "drwxr-xr-x root:root" ] ||
        fail "$DEB: $dir is $mode $owner, not drwxr-xr-x root:root"
done < <(grep '^d' <<<"$DEB_LIST")
pass "dpkg-deb -c lists exactly the binary, ${#PAGES[@]} man pages, 3 completions, the licence, /var/log/svcctl (0750)"
dpkg-deb -f "$DEB" Depends | grep -qx "libc6 (>= $GLIBC)" || fail "$DEB does not depend on libc6 (>= $GLIBC)"
pass "deb depends on libc6 (>= $GLIBC)"
dpkg-deb -x "$DEB" "$WORK/deb"
check_unpacked "$WORK/deb" "deb" usr/share/bash-completion/completions/svcctl \
    usr/share/zsh/vendor-completions/_svcctl usr/share/fish/vendor_completions.d/svcctl.fish \
    usr/share/man/man8 usr/bin/svcctl

# ---------------------------------------------------------------------------------------------
step "check the tarball"
TOP=svcctl-$VERSION-x86_64-linux
TAR_EXPECTED=$(
    printf '%s\n' "$TOP/svcctl" "$TOP/README.md" "$TOP/LICENSE" "$TOP/cinder.conf.example" \
        "$TOP/complete/svcctl.bash" "$TOP/complete/_svcctl" "$TOP/complete/svcctl.fish"
    for page in "${PAGES[@]}"; do echo "$TOP/man/$page.8.gz"; done
)
same_list "$TARBALL" "$TAR_EXPECTED" "$(tar -tzf "$TARBALL" | grep -v '/$')"
pass "tarball holds exactly the binary, ${#PAGES[@]} man pages, 3 completions, README, LICENSE, cinder.conf.example"
mkdir "$WORK/tar"
tar -xzf "$TARBALL" -C "$WORK/tar"
check_unpacked "$WORK/tar/$TOP" "tarball" complete/svcctl.bash complete/_svcctl complete/svcctl.fish \
    man svcctl

# ---------------------------------------------------------------------------------------------
rm -rf "$STAGE"
echo "dist: artifacts in ${DIST#"$ROOT"/}/:"
for f in "$TARBALL" "$RPM" "$DEB"; do
    echo "  $(basename "$f")  $(stat -c %s "$f") bytes"
done
echo "dist: binary $SIZE bytes, newest glibc symbol GLIBC_$NEWEST"
echo "dist: $PASSED passed, 0 failed"
