#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The repository as a patch series for a pristine linux-source-6.1.
#
#   series.sh export CACHE REPO OUTDIR  write OUTDIR/*.patch (git format-patch)
#   series.sh check  CACHE REPO OUTDIR  git am them onto a fresh base and build
#                                       (EACH=1: build after every patch)
#
# Each file in patches/series is one commit: its header (From:, Subject:,
# the message up to the "---" line) is the commit message, its diff edits
# base files, and its "New: PATH" lines, below the "---", name the new
# files of the repository that the commit adds.  Every new file must be
# named by exactly one patch.
set -euo pipefail

cmd=$1
cache=$(realpath "$2")
repo=$(realpath "$3")
outdir=$4
here=$(dirname "$(realpath "$0")")
roots=(arch block drivers include kernel lib mm Documentation tools samples)

base_tree=$("$here/base.sh" "$cache")
ver=$(cat "$base_tree/.pristine")
bgit="$cache/base.git"

# A bare repository holding the pristine base as one commit, made once.
if [ "$(cat "$bgit/pristine-version" 2>/dev/null)" != "$ver" ]; then
	echo "series: recording linux-source-6.1 $ver in $bgit" >&2
	rm -rf "$bgit"
	git init -q --bare "$bgit"
	git -C "$base_tree" -c core.bare=false --git-dir="$bgit" \
		--work-tree="$base_tree" add -A -f -- . ':!.pristine'
	GIT_DIR="$bgit" GIT_AUTHOR_DATE="@1 +0000" GIT_COMMITTER_DATE="@1 +0000" \
		GIT_AUTHOR_NAME=base GIT_AUTHOR_EMAIL=base@localhost \
		GIT_COMMITTER_NAME=base GIT_COMMITTER_EMAIL=base@localhost \
		git commit-tree -m "linux-source-6.1 $ver" \
		"$(GIT_DIR="$bgit" git write-tree)" > "$bgit/base-commit"
	GIT_DIR="$bgit" git update-ref refs/heads/base "$(cat "$bgit/base-commit")"
	echo "$ver" > "$bgit/pristine-version"
fi
base_commit=$(cat "$bgit/base-commit")

export_series() {
	local sgit tmp parent n p hdr from subject name email tree
	mkdir -p "$outdir"
	outdir=$(realpath "$outdir")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	sgit="$tmp/series.git"
	git init -q --bare "$sgit"
	echo "$bgit/objects" > "$sgit/objects/info/alternates"
	(cd "$repo" && git ls-files -co --exclude-standard -- "${roots[@]}") |
		sort > "$tmp/new-files"
	export GIT_DIR="$sgit" GIT_INDEX_FILE="$tmp/index"
	git read-tree "$base_commit"
	: > "$tmp/claimed"
	parent=$base_commit
	n=0
	while read -r p _; do
		case "$p" in ''|'#'*) continue ;; esac
		n=$((n + 1))
		hdr="$repo/patches/$p"
		# Header up to the first "---" line: From:, Subject:, body.
		awk '/^---$/ { exit } { print }' "$hdr" > "$tmp/head"
		from=$(sed -n 's/^From: //p' "$tmp/head" | head -n1)
		subject=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\?//p' "$tmp/head" | head -n1)
		[ -n "$from" ] && [ -n "$subject" ] || {
			echo "series: patches/$p lacks From: or Subject:" >&2; return 1; }
		name=${from% <*}
		email=${from##*<}; email=${email%>}
		{ echo "$subject"; echo; sed '1,/^$/d' "$tmp/head"; } > "$tmp/msg"

		# Edits of base files, if the patch has any.
		if grep -q '^+++ ' "$hdr"; then
			git apply --cached -p1 "$hdr" || {
				echo "series: patches/$p does not apply" >&2; return 1; }
		fi
		# New files it names.
		sed -n '/^---$/,/^--- a\//s/^New: //p' "$hdr" | while read -r prefix; do
			grep -E "^${prefix//./\\.}" "$tmp/new-files" > "$tmp/these" || {
				echo "series: patches/$p: no file under $prefix" >&2; exit 1; }
			while read -r f; do
				mode=100644
				[ -x "$repo/$f" ] && mode=100755
				git update-index --add --cacheinfo \
					"$mode,$(git hash-object -w "$repo/$f"),$f"
				echo "$f" >> "$tmp/claimed"
			done < "$tmp/these"
		done
		tree=$(git write-tree)
		parent=$(GIT_AUTHOR_NAME="$name" GIT_AUTHOR_EMAIL="$email" \
			GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$email" \
			GIT_AUTHOR_DATE="@$((1700000000 + n)) +0000" \
			GIT_COMMITTER_DATE="@$((1700000000 + n)) +0000" \
			git commit-tree "$tree" -p "$parent" -F "$tmp/msg")
	done < "$repo/patches/series"

	sort "$tmp/claimed" | uniq -d > "$tmp/twice"
	sort -u "$tmp/claimed" | comm -23 "$tmp/new-files" - > "$tmp/unclaimed"
	if [ -s "$tmp/twice" ] || [ -s "$tmp/unclaimed" ]; then
		sed 's/^/series: named by two patches: /' "$tmp/twice" >&2
		sed 's/^/series: named by no patch: /' "$tmp/unclaimed" >&2
		return 1
	fi
	rm -f "$outdir"/*.patch
	git format-patch -q -o "$outdir" "$base_commit..$parent"
	unset GIT_DIR GIT_INDEX_FILE
	echo "series: $n patches in $outdir"
}

check_series() {
	local work=$outdir/../series-check src obj p n=0
	mkdir -p "$work"
	work=$(realpath "$work")
	src=$work/src
	obj=$work/obj
	rm -rf "$src"
	git clone -q --shared --no-checkout "$bgit" "$src"
	git -C "$src" -c advice.detachedHead=false checkout -q "$base_commit"
	for p in "$outdir"/*.patch; do
		n=$((n + 1))
		git -C "$src" -c user.name=check -c user.email=check@localhost \
			am -q --whitespace=error-all "$p" || {
			echo "series-check: $(basename "$p") does not apply with git am" >&2
			return 1; }
		if [ "${EACH:-0}" = 1 ]; then
			echo "series-check: building after $(basename "$p")"
			BUILD_LENIENT=1 "$here/build.sh" "$src" "$obj" \
				"$work/kselftest" "$repo/configs/x86_64.config"
		fi
	done
	echo "series-check: $n patches apply with git am to linux-source-6.1 $ver"
	if [ "${EACH:-0}" != 1 ]; then
		"$here/build.sh" "$src" "$obj" "$work/kselftest" \
			"$repo/configs/x86_64.config"
	fi
	echo "series-check: the series builds"
}

case "$cmd" in
export) export_series ;;
check) check_series ;;
*) echo "usage: series.sh export|check CACHE REPO OUTDIR" >&2; exit 2 ;;
esac
