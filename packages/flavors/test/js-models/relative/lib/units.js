export const SYMBOLS = { C: '°C', F: '°F', K: 'K' };

export function convert(celsius, unit) {
  if (unit === 'F') return (celsius * 9) / 5 + 32;
  if (unit === 'K') return celsius + 273.15;
  if (unit === 'C') return celsius;
  throw new Error(`unknown unit ${unit}`);
}
