// A cell's code editor: CodeMirror 6 (vendor/codemirror.js, bundled at `cargo xtask site`) with
// JavaScript highlighting, bracket matching and closing, undo, Shift+Enter to run, and
// completions of the session's names: its tables and their columns (asked of the worker when a
// completion opens) and the API (`session`, `Agg`, `UpdateBy`, `SortColumn`, table methods).
// A read-only editor (a built-in notebook's) still selects and copies.

import {
  Compartment,
  EditorState,
  EditorView,
  StreamLanguage,
  autocompletion,
  bracketMatching,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
  defaultHighlightStyle,
  defaultKeymap,
  drawSelection,
  history,
  historyKeymap,
  indentOnInput,
  indentWithTab,
  javascript,
  keymap,
  syntaxHighlighting,
} from "./vendor/codemirror.js";
import { call } from "./engine.js";

// The worker's names, asked at most once a second (a completion opens on every keystroke).
let names = null;
let namesAt = 0;
async function sessionNames() {
  if (!names || performance.now() - namesAt > 1000) {
    namesAt = performance.now();
    names = call({ type: "names" });
  }
  return names;
}

/** Completions at the cursor: members after `X.`, column names in a string, else names. */
async function complete(context) {
  const word = context.matchBefore(/[\w$]*/);
  const before = context.state.sliceDoc(Math.max(0, word.from - 40), word.from);
  if (!context.explicit && word.from === word.to && !before.endsWith(".")) return null;
  const known = await sessionNames();
  const member = /([\w$]+)\s*\.\s*$/.exec(before);
  let options;
  if (member) {
    const owner = member[1];
    const api = known.api[owner] ?? (owner === "session" ? known.api.session : known.api.Table);
    options = api.map((label) => ({ label, type: "method" }));
  } else if (/["`][^"`]*$/.test(context.state.sliceDoc(context.state.doc.lineAt(word.from).from, word.from))) {
    const columns = new Set(Object.values(known.tables).flat());
    options = [...columns].map((label) => ({ label, type: "property" }));
  } else {
    options = [
      ...["session", "Agg", "UpdateBy", "SortColumn"].map((label) => ({ label, type: "namespace" })),
      ...Object.keys(known.tables).map((label) => ({ label, type: "variable", detail: "table" })),
      ...known.values.map((label) => ({ label, type: "variable" })),
    ];
  }
  return { from: word.from, options, validFor: /^[\w$]*$/ };
}

const theme = EditorView.theme({
  "&": { fontSize: "12.5px", border: "1px solid var(--line, #d0d7de)", borderRadius: "6px", background: "#fff" },
  "&.cm-focused": { outline: "2px solid #2563eb55" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", padding: "6px 0" },
  ".cm-scroller": { maxHeight: "28em", overflow: "auto" },
});

/**
 * An editor of `doc` in `parent`. `onChange(text)` after each edit, `onRun()` on Shift+Enter;
 * returns {view, setReadOnly(flag), text()}.
 */
export function createEditor(parent, { doc, readOnly, onChange, onRun }) {
  const editable = new Compartment();
  const readOnlyFacets = (flag) => [EditorState.readOnly.of(flag), EditorView.editable.of(!flag)];
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion({ override: [complete] }),
        StreamLanguage.define(javascript),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([
          { key: "Shift-Enter", run: () => (onRun(), true) },
          ...closeBracketsKeymap,
          ...completionKeymap,
          ...defaultKeymap,
          ...historyKeymap,
          indentWithTab,
        ]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
        EditorView.lineWrapping,
        editable.of(readOnlyFacets(readOnly)),
        theme,
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setReadOnly: (flag) => view.dispatch({ effects: editable.reconfigure(readOnlyFacets(flag)) }),
  };
}
