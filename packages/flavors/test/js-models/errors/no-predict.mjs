export async function load() {
  return { run: () => 1 };
}
