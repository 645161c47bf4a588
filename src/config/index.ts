export { DEFAULT_SETTINGS, LOG_LEVELS, STORE_KINDS, flagName, mergeSettings } from './settings.js';
export type { LogLevel, PartialSettings, ServeSettings, StoreKind } from './settings.js';
export { listenPort, parsePort, type PortSetting } from './ports.js';
export { loadConfigFile, parseConfig } from './config-file.js';
export { resolveSettings, settingsFromFlags } from './resolve.js';
export { ensureDevCertificate, type DevCertificate } from './dev-certificate.js';
