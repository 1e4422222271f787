// A third-party flavor plugin used by the registry tests: it answers every request with its input.
export default {
  name: 'echo',
  canLoad(model) {
    return 'echo' in model.mlmodel.flavors;
  },
  async load(model) {
    let closed = false;
    return {
      flavor: 'echo',
      signature: model.mlmodel.signature ?? null,
      details: { greeting: model.mlmodel.flavors.echo.greeting },
      acceptsJson: true,
      async predict(input) {
        if (closed) throw new Error('closed');
        return input.kind === 'json' ? input : { kind: 'json', value: { rows: input.kind === 'columns' ? input.numRows : input.tensors.length } };
      },
      async close() {
        closed = true;
      },
    };
  },
};
