// The nats-server version sluice advertises in INFO. Official clients gate features on it
// (nats.js: KV >= 2.6.2, pull max_bytes >= 2.8.3, consumer-create API and allow_direct >= 2.9.0,
// filter_subjects and metadata >= 2.10.0, batch direct get and priority groups >= 2.11.0), so it
// must name the newest release whose client-visible features sluice implements.
export const ADVERTISED_SERVER_VERSION = '2.10.0';
/** INFO proto: 1 = async INFO and echo:false supported. */
export const PROTOCOL_VERSION = 1;
/** sluice's own version, reported in monitoring next to the advertised one. */
export const SLUICE_VERSION = '0.1.0';
