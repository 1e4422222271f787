const key = process.env.MLMODEL_TEST_NEVER_SET;
if (!key) throw new Error('MLMODEL_TEST_NEVER_SET is not set: cannot reach the pricing service');
export async function load() {
  return { predict: () => key };
}
