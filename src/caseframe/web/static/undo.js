// caseframe: undo and redo of the user's own last actions in a document (codings and memos).
// Each action knows how to undo and redo itself through the JSON API. A coding or memo that
// is made again gets a new id, so actions refer to them through shared `ref` objects whose id
// is updated: a later action on the same coding still finds it.

const LIMIT = 100;

export class History {
  constructor(onChange) {
    this.done = [];
    this.undone = [];
    this.refs = new Map();
    this.busy = false;
    this.onChange = onChange || (() => {});
  }

  ref(id) {
    if (!this.refs.has(id)) this.refs.set(id, { id });
    return this.refs.get(id);
  }

  moved(ref, newId) {
    ref.id = newId;
    this.refs.set(newId, ref);
  }

  // action: {label, undo: async () => {}, redo: async () => {}}
  push(action) {
    this.done.push(action);
    if (this.done.length > LIMIT) this.done.shift();
    this.undone = [];
    this.onChange();
  }

  async undo() { return this.step(this.done, this.undone, "undo"); }

  async redo() { return this.step(this.undone, this.done, "redo"); }

  async step(from, to, how) {
    if (this.busy || !from.length) return null;
    this.busy = true;
    const action = from.pop();
    try {
      await action[how]();
      to.push(action);
      return action;
    } catch (err) {
      from.push(action);
      throw err;
    } finally {
      this.busy = false;
      this.onChange();
    }
  }

  get canUndo() { return this.done.length > 0; }
  get canRedo() { return this.undone.length > 0; }
  get nextUndo() { return this.done[this.done.length - 1]; }
  get nextRedo() { return this.undone[this.undone.length - 1]; }
}
