// Method names, param schemas and result types of protocol 1. The daemon validates with the schemas;
// clients import only the types (type-only imports cost nothing at start-up).
export * from './common.js';
export * from './daemon.js';
export * from './hosts.js';
export * from './pool.js';
export * from './ssh.js';
export * from './transfer.js';
export * from './fleet.js';
export * from './jobs.js';
export * from './audit.js';
export * from './fs.js';
export * from './shell.js';
export * from './forward.js';
export * from './approvals.js';
