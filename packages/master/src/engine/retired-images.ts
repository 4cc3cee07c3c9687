// Images of Baetyl v1 that cannot run anywhere any more, and what to use instead. Both engines
// refuse them at start (the other services run), and `baetyl check` warns about them.
import { shortImageName } from '../app/image-names.js';

const RETIRED: Readonly<Record<string, string>> = {
  'baetyl-agent':
    "Baetyl v1's agent reported to and took deploys from Baidu's cloud (BIE), which no longer exists, so it cannot run. " +
    'To send data to a cloud MQTT broker, run a remote-mqtt service (image baetyl-remote-mqtt); ' +
    'to deploy a new application, use `baetyl update`. Remove this service from application.yml',
};

/** Why `image` cannot run, or undefined when it is not a retired image. */
export function retiredImage(image: string): string | undefined {
  const why = RETIRED[shortImageName(image)];
  return why ? `image "${image}": ${why}` : undefined;
}
