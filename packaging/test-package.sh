#!/bin/sh
# Installs a Crossroads .deb the way a user would (apt-get install ./file.deb, so its Depends
# resolve from the archive), checks what it declares and carries, runs the installed binary away
# from the source tree (in a fresh HOME and an empty folder: the store is created and seeded from
# the data compiled into the binary), opens the window under xvfb-run for a few seconds and takes
# a screenshot, then removes the package again (whatever failed).
#
#   packaging/test-package.sh build-deb/crossroads_0.1.0_amd64.deb [SCREENSHOT.png]
#
# `make package-test` builds the .deb and runs this. Needs root or sudo, apt, and for the window
# xvfb-run (xvfb) and import (imagemagick); without them that part is skipped, said so.
set -eu

deb=${1:?usage: packaging/test-package.sh FILE.deb [SCREENSHOT.png]}
shot=${2:-/tmp/crossroads-package-gui.png}
[ -f "$deb" ] || { echo "test-package: no such file: $deb" >&2; exit 1; }
case "$deb" in /*) ;; *) deb="$PWD/$deb" ;; esac
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

fail() {
    echo "test-package: FAIL: $*" >&2
    exit 1
}

name=$(dpkg-deb -f "$deb" Package)
depends=$(dpkg-deb -f "$deb" Depends)
echo "== $name $(dpkg-deb -f "$deb" Version) ($(dpkg-deb -f "$deb" Architecture))"
echo "Depends: $depends"

# What shlibdeps cannot see (plugins) and what it must have found (the libraries linked).
for want in libqt6sql6-sqlite libqt6svg6 libqt6widgets6 libqt6gui6 libqt6core6 libqt6sql6 \
    libqcustomplot2.1-qt6 libdnnl2 libxlsxwriter4 libgomp1; do
    echo "$depends" | tr ',' '\n' | grep -q "^ *$want\( \|$\)" || fail "Depends lacks $want"
done
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/crossroads ./usr/share/applications/crossroads.desktop \
    ./usr/share/icons/hicolor/scalable/apps/crossroads.svg; do
    echo "$contents" | grep -q " $path\$" || fail "the package does not carry $path"
done

if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
    fail "$name is installed already: remove it first (this test leaves the machine as it found it)"
fi

work=$(mktemp -d)
cleanup() {
    status=$?
    echo "== removing $name"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -qq "$name" >/dev/null 2>&1 || true
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT INT TERM

echo "== installing $deb"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install"; }
[ "$(command -v crossroads)" = /usr/bin/crossroads ] || fail "crossroads is not /usr/bin/crossroads"
grep -q '^Exec=crossroads' /usr/share/applications/crossroads.desktop || fail "desktop entry"

# Away from the source tree, with nothing of a previous run: a fresh HOME (the default store
# goes under it) and an empty current folder.
home="$work/home"
run="$work/cwd"
mkdir -p "$home" "$run"
inrun() { (cd "$run" && env -u DISPLAY -u WAYLAND_DISPLAY -u XDG_DATA_HOME HOME="$home" "$@"); }

echo "== crossroads classify (installed binary, clean HOME)"
inrun crossroads classify --edition 2023-10 --chip "H20 (China)" --chip "H100 SXM5 80GB" \
    >"$work/classify.txt" 2>"$work/classify.err" ||
    { cat "$work/classify.err" >&2; fail "crossroads classify"; }
cat "$work/classify.txt"
grep -q "3A090.a" "$work/classify.txt" || fail "classify: the H100 is not 3A090.a under 2023-10"
[ -f "$home/.local/share/Crossroads/crossroads/crossroads.sqlite" ] ||
    fail "the store was not created in the user's data folder"
inrun crossroads classify --json --chip "H100 SXM5 80GB" >"$work/classify.json" ||
    fail "classify --json"
grep -q '"edition": *"2026-01"' "$work/classify.json" ||
    fail "classify --json: the default edition is not 2026-01"
chips=$(inrun crossroads chips --json | grep -c '"name"' || true)
[ "$chips" -gt 40 ] || fail "the seeded store holds $chips chips"
editions=$(inrun crossroads editions | grep -c '^20' || true)
[ "$editions" -ge 6 ] || fail "the seeded store lists $editions editions"
echo "store: $chips chip names, $editions editions"
# A chart (QCustomPlot, off screen) and an XLSX export (libxlsxwriter) from the installed binary.
inrun crossroads chart --kind tpp-pd --edition 2023-10 --out "$run/chart.svg" ||
    fail "crossroads chart"
inrun crossroads export --table classification --out "$run/table.xlsx" || fail "export xlsx"
[ -s "$run/chart.svg" ] && [ -s "$run/table.xlsx" ] || fail "chart or export wrote nothing"

if command -v xvfb-run >/dev/null && command -v import >/dev/null; then
    echo "== the window under xvfb-run (screenshot: $shot)"
    rm -f "$shot"
    (cd "$run" && HOME="$home" xvfb-run -a -s "-screen 0 1600x1000x24" sh -c '
        crossroads 2>"$1" &
        pid=$!
        sleep 9
        kill -0 $pid || { echo "the window exited early" >>"$1"; exit 1; }
        import -window root "$2"
        kill $pid
        wait $pid 2>/dev/null || true' sh "$work/gui.err" "$shot") ||
        { cat "$work/gui.err" >&2; fail "the window"; }
    [ -s "$shot" ] || fail "no screenshot"
    if [ -s "$work/gui.err" ]; then
        echo "the window said:"
        sed 's/^/  /' "$work/gui.err"
    fi
    if grep -q -i -E "could not (load|find)|plugin|QSQLITE" "$work/gui.err"; then
        cat "$work/gui.err" >&2
        fail "the window complained about a missing plugin"
    fi
else
    echo "== SKIPPED: the window (needs xvfb-run and ImageMagick's import)"
fi
echo "== test-package: OK"
