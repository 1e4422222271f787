/**
 * A run name for runs created without one, in the style of MLflow's `<adjective>-<noun>-<number>`
 * (e.g. `sincere-stag-842`). The word lists are this project's own.
 */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'clever',
  'bright',
  'gentle',
  'lucky',
  'merry',
  'nimble',
  'quiet',
  'rapid',
  'silver',
  'steady',
  'sunny',
  'swift',
  'tidy',
  'vivid',
  'warm',
  'wise',
  'zesty',
];
const NOUNS = [
  'badger',
  'crane',
  'dolphin',
  'falcon',
  'finch',
  'fox',
  'heron',
  'lynx',
  'otter',
  'owl',
  'panda',
  'quail',
  'raven',
  'robin',
  'seal',
  'sparrow',
  'stag',
  'swan',
  'tiger',
  'wren',
];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
