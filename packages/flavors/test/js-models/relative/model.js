// An ES module in a .js file (the package.json next to it says "type": "module") with relative imports.
import { describeTemperature } from './lib/helpers.mjs';

export default {
  async load(context) {
    const unit = context.modelConfig.unit ?? 'F';
    return {
      predict(input) {
        const col = input.kind === 'columns' ? input.columns.find((c) => c.name === 'celsius') : undefined;
        if (!col) throw new Error('expected a celsius column');
        return Array.from(col.values, (c) => describeTemperature(c, unit));
      },
    };
  },
};
