export { importMail, type ImportOptions, type ImportProgress, type ImportSource, type ImportSummary } from './importer.js';
export { exportMaildir, type ExportOptions, type ExportSummary } from './exporter.js';
export { findMaildirFolders, flagsFromName } from './maildir.js';
export { readMbox, fromLineDate, flagsFromHeaders } from './mbox.js';
export { toCrlf, toLf } from './line-endings.js';
