#!/usr/bin/env bash
# Scan the module with govulncheck against a local copy of the Go
# vulnerability database (CI has no route to vuln.go.dev). The database is
# built from the golang.org/x/vulndb module, fetched through the module proxy
# like any module, with its own cmd/indexdb, outside our go.mod, and cached.
#
#   tools/vulncheck.sh                       # fail on any called vulnerability, stdlib too
#   VULNCHECK_STDLIB=warn tools/vulncheck.sh # only warn on called stdlib ones
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GO=${GO:-go}
cache_root=${VULNCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rcbu-console}
db="$cache_root/vulndb-$VULNDB_VERSION"

if [ ! -s "$db/index/db.json" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	echo "vulncheck: building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION (once)" >&2
	# Outside our module, so that neither command touches go.mod.
	src=$(cd "$work" && GOFLAGS= GO111MODULE=on "$GO" mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [ ! -d "$src/data/osv" ]; then
		echo "vulncheck: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv (got Dir=$src)" >&2
		exit 1
	fi
	(cd "$work" && GOFLAGS= GO111MODULE=on "$GO" run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$work/db")
	mkdir -p "$cache_root"
	rm -rf "$db"
	mv "$work/db" "$db"
	rm -rf "$work"
	trap - EXIT
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# govulncheck exits 0 in JSON mode whatever it finds; a load error is non-zero.
if ! "$GO" tool govulncheck -db "file://$db" -format json ./... >"$out"; then
	echo "vulncheck: govulncheck could not scan the module" >&2
	exit 1
fi
"$GO" run ./tools/vulnreport -stdlib="${VULNCHECK_STDLIB:-fail}" -accept tools/vulncheck-accepted.txt <"$out"
