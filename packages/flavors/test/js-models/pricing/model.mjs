// Business logic shipped as a model: a price table (artifact) and a bulk discount (model config).
import { readFile } from 'node:fs/promises';

export async function load(context) {
  const table = JSON.parse(await readFile(context.artifacts.prices, 'utf8'));
  const bulkQty = context.modelConfig.bulk_qty ?? Infinity;
  const discount = context.modelConfig.bulk_discount ?? 0;
  context.logger.info(`pricing model: ${Object.keys(table.plans).length} plans`);

  return {
    predict(input, params) {
      if (input.kind !== 'columns') throw new Error(`expected a table with plan and qty columns, got ${input.kind}`);
      const plan = input.columns.find((c) => c.name === 'plan');
      const qty = input.columns.find((c) => c.name === 'qty');
      if (!plan || !qty) throw new Error('the input needs a plan column and a qty column');
      const rate = params.fx_rate ?? 1;
      const total = new Float64Array(input.numRows);
      for (let i = 0; i < input.numRows; i++) {
        const name = plan.values.get(i);
        const unit = table.plans[name];
        if (unit === undefined) throw new Error(`unknown plan ${JSON.stringify(name)}; known: ${Object.keys(table.plans).join(', ')}`);
        const q = Number(qty.values[i]);
        if (q < 0) throw new Error(`qty must be >= 0, got ${q} in row ${i}`);
        total[i] = unit * q * (q >= bulkQty ? 1 - discount : 1) * rate;
      }
      return { kind: 'columns', numRows: input.numRows, columns: [plan, { name: 'total', dtype: 'float64', values: total }] };
    },
  };
}
