import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** isMain says whether the module at moduleUrl is the script being run, not one imported by a test. */
export function isMain(moduleUrl: string): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
