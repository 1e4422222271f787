import { helper } from './not-listed/helper.mjs';

export async function load() {
  return { predict: () => helper() };
}
