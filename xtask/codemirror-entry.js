// The entry point of the page's one vendored editor file (`vendor/codemirror.js`), bundled and
// minified by esbuild at `cargo xtask site`: the CodeMirror 6 pieces www/notebook-editor.js
// uses, re-exported; esbuild drops the rest of the packages. JavaScript is highlighted by the
// legacy (CodeMirror 5) stream mode: 31 KB gzip smaller than the Lezer grammar, which carries
// TypeScript and JSX tables the cells never need.

export { EditorView, keymap, drawSelection } from "@codemirror/view";
export { EditorState, Compartment } from "@codemirror/state";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export { StreamLanguage, bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
export { javascript } from "@codemirror/legacy-modes/mode/javascript";
export { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
