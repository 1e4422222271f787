export function predict() {
  return 1;
}
export const version = 2;
