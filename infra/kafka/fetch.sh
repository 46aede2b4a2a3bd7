#!/usr/bin/env bash
# Fetches the Apache Kafka broker jars from Maven Central once, into a cache; prints the jar folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
pom_hash=$(sha256sum "$here/pom.xml" | cut -c1-12)
lib="${EVALSTREAM_CACHE:-$HOME/.cache/evalstream}/kafka-$version-$pom_hash"
if [ ! -f "$lib/.complete" ]; then
  echo "fetching Apache Kafka $version jars into $lib (once)" >&2
  rm -rf "$lib"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
  touch "$lib/.complete"
fi
echo "$lib"
