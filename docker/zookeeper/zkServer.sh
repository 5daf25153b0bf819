#!/bin/bash
# The stand-in's zkServer.sh: only `start-foreground`, which is what the official image runs. It
# replaces Debian's script so the image needs only the jars (libzookeeper-java) and a headless JRE,
# not the zookeeper package, which pulls a full default-jre. Flags as the official image's:
# the heap from ZK_SERVER_HEAP (1000 MB), then SERVER_JVMFLAGS and JVMFLAGS.
set -euo pipefail
[[ "${1:-}" == start-foreground ]] || { echo "zkServer.sh: only start-foreground is supported" >&2; exit 2; }
# shellcheck disable=SC2086 # the flags are word lists on purpose
exec java "-Xmx${ZK_SERVER_HEAP:-1000}m" \
  -Dorg.slf4j.simpleLogger.showDateTime=true \
  "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy/MM/dd HH:mm:ss" \
  ${SERVER_JVMFLAGS:-} ${JVMFLAGS:-} \
  -cp "$ZOO_CONF_DIR:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZOO_CONF_DIR/zoo.cfg"
