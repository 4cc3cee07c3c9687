// The names an application.yml gives our services' images, whatever the engine: Baetyl's and
// OpenEdge's docker image names, and Baetyl v1.0's native package names.

/** `hub.baidubce.com/baetyl/baetyl-hub:latest` -> `baetyl-hub`; OpenEdge names map to Baetyl's. */
export function shortImageName(image: string): string {
  const last = image.split('/').pop() ?? image;
  const name = last.split('@')[0]!.split(':')[0]!;
  return name.replace(/^openedge-/, 'baetyl-');
}

/**
 * Baetyl v1.0's native packages (its native examples, tag 1.0.0 and branch stable/1) name the
 * runtimes after their language's major version; its docker images, and 0.1, after the minor
 * one (python27, python36, node85). Both names run the same runtime; the docker image name is ours.
 */
export const V1_0_IMAGE_NAMES: Readonly<Record<string, string>> = {
  'baetyl-function-python2': 'baetyl-function-python27',
  'baetyl-function-python3': 'baetyl-function-python36',
  'baetyl-function-node8': 'baetyl-function-node85',
};
