export { seedFleet } from './seed-fleet.js';
export {
  DEFAULT_STATUS_MIX,
  FAILURE_REASON_MIX,
  SeedRefusedError,
  resolveStatusMix,
  type SeedOptions,
  type SeedProgress,
  type SeedReport,
} from './options.js';
