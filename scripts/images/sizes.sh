#!/usr/bin/env bash
# What the Baetyl images take on disk (docs/docker.md, "Sizes"): each image's size as
# `docker images` gives it, and the images together with every shared layer counted once, as
# `docker system df` counts them. Layers are the same when their content and everything under
# them are (the same base, the same COPY).
#
#   scripts/images/sizes.sh [image...]     (default: the images of the tutorial, below)
set -euo pipefail
images=${*:-baetyl-master baetyl-hub baetyl-function-manager baetyl-function-python27 baetyl-function-python36 baetyl-function-node85 baetyl-function-sql}
declare -A layer_size
for image in $images; do
  # The image's layers, bottom first, and their sizes from its history (entries that made a layer).
  mapfile -t diffs < <(docker image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$image" | sed '/^$/d')
  mapfile -t sizes < <(docker image history --no-trunc --human=false --format '{{.Size}}\t{{.CreatedBy}}' "$image" | tac |
    awk -F'\t' '$2 !~ /#\(nop\) +(LABEL|ENV|WORKDIR|EXPOSE|ENTRYPOINT|CMD|ARG)/ { print $1 }')
  ((${#diffs[@]} == ${#sizes[@]})) || { echo "$image: ${#diffs[@]} layers but ${#sizes[@]} history entries that made one" >&2; exit 1; }
  chain=""
  total=0
  for i in "${!diffs[@]}"; do
    chain+="${diffs[$i]}"
    layer_size[$chain]=${sizes[$i]}
    total=$((total + sizes[i]))
  done
  printf '%-28s %6.1f MB  (%s layers)\n' "$image" "$(bc -l <<<"$total / 1000000")" "${#diffs[@]}"
done
sum=0
for s in "${layer_size[@]}"; do sum=$((sum + s)); done
printf '%-28s %6.1f MB  (%s distinct layers)\n' "together" "$(bc -l <<<"$sum / 1000000")" "${#layer_size[@]}"
