#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Upstream Linux 6.12's <linux/vfio.h> and <linux/iommufd.h>, as
# headers_install makes them, for the programs that prove a VMM built
# against upstream's headers alone works on this kernel (make run's demo).
# The rest of the uAPI comes from the host's /usr/include.
#
# usage: upstream-uapi.sh CACHE SRC OBJ OUTDIR
#   CACHE  where make abi extracted linux-source-6.12's include/uapi/
#   SRC    a prepared tree (its scripts/headers_install.sh)
#   OBJ    its object directory (headers_install.sh runs scripts/unifdef)
set -euo pipefail

cache=$(realpath "$1")
src=$(realpath "$2")
obj=$(realpath "$3")
out=$4

uapi=$(ls -d "$cache"/upstream-6.12/linux-source-6.12/include/uapi 2>/dev/null) || {
	echo "upstream-uapi: no linux-source-6.12 headers in $cache (make abi)" >&2
	exit 1
}
mkdir -p "$out/linux"
out=$(realpath "$out")
for h in vfio iommufd; do
	(cd "$obj" && sh "$src/scripts/headers_install.sh" \
		"$uapi/linux/$h.h" "$out/linux/$h.h")
done
