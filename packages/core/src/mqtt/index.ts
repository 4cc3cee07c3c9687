// @baetyl/core/mqtt: how services reach a broker (ClientInfo), acknowledge end to end, and back
// off their reconnects; the MQTT.js internals a service may need are named here, one by one.
export {
  brokerAddressProblem,
  certificateProperties,
  clientInfoProperties,
  mqttClientOptions,
  topicInfoSchema,
  unusedCertificateKeys,
  unusedCertificateMessage,
  type ClientInfo,
  type TopicInfo,
} from './client-info.js';
export { deferAcks, type Delivery } from './deferred-ack.js';
export { backoffReconnects, type ReconnectBackoff } from './reconnect.js';
export { awaitsAcknowledgement, connectionOf, pendingPublishCallback, VERIFIED_MQTT_VERSION } from './internals.js';
