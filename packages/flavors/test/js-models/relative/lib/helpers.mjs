import { convert, SYMBOLS } from './units.js';

export function describeTemperature(celsius, unit) {
  return `${convert(celsius, unit).toFixed(1)} ${SYMBOLS[unit]}`;
}
